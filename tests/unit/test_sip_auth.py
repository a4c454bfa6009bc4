"""Digest challenges, credentials and responses (RFC 2617, RFC 7616, RFC 3261 §22).

Covers the wire corpus under ``tests/data/wire/auth`` (captures written for this project,
plus deliberately broken variants), the worked examples published in RFC 2617 §3.5 and
RFC 7616 §3.9.1, the client and lab-registrar sides, and Hypothesis properties: any text
gives a model or an :class:`AuthChallengeError`, and models survive writing and reading.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import AuthChallengeError, LocalProtocolError
from rcs_terminal.protocol.sip.auth import (
    Challenge,
    Credentials,
    NonceCounter,
    build_authorization,
    build_initial_authorization,
    compute_response,
    format_challenge,
    format_credentials,
    make_challenge,
    parse_algorithm,
    parse_challenge,
    parse_challenges,
    parse_credentials,
    verify_authorization,
)

AUTH_DIR = Path(__file__).parents[1] / "data" / "wire" / "auth"
CHALLENGE_HEADERS = ("www-authenticate", "proxy-authenticate")
CREDENTIAL_HEADERS = ("authorization", "proxy-authorization")
LAB_PASSWORD = "lab-secret"


def header_fields(raw: bytes) -> list[tuple[str, str]]:
    """The (lower-case name, value) header fields of a message or header-only file."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    lines: list[str] = []
    for line in head.decode("utf-8").split("\r\n"):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += " " + line.strip()  # an obsolete folded continuation
        elif line:
            lines.append(line)
    fields = []
    for line in lines:
        name, sep, value = line.partition(":")
        if sep and " " not in name:
            fields.append((name.strip().lower(), value.strip()))
    return fields


def fields_named(path: Path, names: tuple[str, ...]) -> list[str]:
    return [value for name, value in header_fields(path.read_bytes()) if name in names]


def body_of(path: Path) -> bytes:
    return path.read_bytes().split(b"\r\n\r\n", 1)[1]


CORPUS = sorted(AUTH_DIR.glob("*.sip"))
CHALLENGE_FILES = [p for p in CORPUS if fields_named(p, CHALLENGE_HEADERS)]
BROKEN = sorted((AUTH_DIR / "broken").glob("*.txt"))


# --------------------------------------------------------------------------- the corpus


def test_corpus_is_present_and_uses_crlf() -> None:
    assert len(CHALLENGE_FILES) >= 5 and len(BROKEN) >= 10
    for path in CORPUS:
        raw = path.read_bytes()
        assert b"\r\n\r\n" in raw
        assert b"\n" not in raw.replace(b"\r\n", b""), path.name


@pytest.mark.parametrize("path", CHALLENGE_FILES, ids=lambda p: p.name)
def test_corpus_challenges_parse_and_round_trip(path: Path) -> None:
    for value in fields_named(path, CHALLENGE_HEADERS):
        challenge = parse_challenge(value)
        assert challenge.is_digest
        assert challenge.realm and challenge.nonce
        assert parse_challenge(format_challenge(challenge)) == challenge


def test_corpus_challenge_details() -> None:
    (proxy,) = fields_named(AUTH_DIR / "407-proxy-md5-sess.sip", CHALLENGE_HEADERS)
    challenge = parse_challenge(proxy)
    assert challenge.scheme == "Digest"  # sent as "digest"
    assert challenge.realm == "botplatform.lab"  # sent as REALM=
    assert challenge.opaque == 'x y "z"'  # escaped quotes
    assert challenge.algorithm == "MD5-sess"  # quoted, still read
    assert challenge.qop == ("auth-int", "auth")
    assert challenge.domain == ("sip:botplatform.lab", "sip:rcs.test")

    (stale,) = fields_named(AUTH_DIR / "401-stale-unquoted.sip", CHALLENGE_HEADERS)
    challenge = parse_challenge(stale)
    assert (challenge.realm, challenge.nonce, challenge.stale) == ("rcs.test", "4f3c2a1b0e9d", True)
    assert challenge.qop == ()  # RFC 2069 style

    (folded,) = fields_named(AUTH_DIR / "401-folded-sha256-sess.sip", CHALLENGE_HEADERS)
    challenge = parse_challenge(folded)
    assert challenge.algorithm == "SHA-256-sess"
    assert challenge.qop == ("auth", "auth-int")

    sha, md5 = fields_named(AUTH_DIR / "401-digest-sha256-md5.sip", CHALLENGE_HEADERS)
    assert parse_challenge(sha).algorithm == "SHA-256"
    assert parse_challenge(md5).opaque == "7a1c"

    (aka,) = fields_named(AUTH_DIR / "401-ims-aka.sip", CHALLENGE_HEADERS)
    assert parse_challenge(aka).is_aka


@pytest.mark.parametrize(
    ("request_file", "challenge_file", "index", "method"),
    [
        ("register-digest-sha256.sip", "401-digest-sha256-md5.sip", 0, "REGISTER"),
        ("message-proxy-auth-int.sip", "407-proxy-md5-sess.sip", 0, "MESSAGE"),
    ],
)
def test_corpus_credentials_verify(
    request_file: str, challenge_file: str, index: int, method: str
) -> None:
    (value,) = fields_named(AUTH_DIR / request_file, CREDENTIAL_HEADERS)
    credentials = parse_credentials(value)
    challenge = parse_challenge(fields_named(AUTH_DIR / challenge_file, CHALLENGE_HEADERS)[index])
    body = body_of(AUTH_DIR / request_file)
    for password, expected in ((LAB_PASSWORD, True), ("wrong", False)):
        assert expected == verify_authorization(
            credentials, method=method, password=password, body=body, challenge=challenge
        )
    assert not verify_authorization(
        credentials, password=LAB_PASSWORD, method="INVITE", body=body, challenge=challenge
    )
    assert parse_credentials(format_credentials(credentials)) == credentials


def test_corpus_auth_int_covers_the_body() -> None:
    path = AUTH_DIR / "message-proxy-auth-int.sip"
    (value,) = fields_named(path, CREDENTIAL_HEADERS)
    credentials = parse_credentials(value)
    assert credentials.qop == "auth-int" and credentials.algorithm == "MD5-sess"
    tampered = body_of(path).replace("你好".encode(), "再见".encode())
    assert verify_authorization(
        credentials, method="MESSAGE", password=LAB_PASSWORD, body=body_of(path)
    )
    assert not verify_authorization(
        credentials, method="MESSAGE", password=LAB_PASSWORD, body=tampered
    )


def test_corpus_initial_register() -> None:
    (value,) = fields_named(AUTH_DIR / "register-initial-aka.sip", CREDENTIAL_HEADERS)
    impi = "460000000000001@ims.mnc000.mcc460.3gppnetwork.org"
    domain = "ims.mnc000.mcc460.3gppnetwork.org"
    assert value == build_initial_authorization(impi, domain, algorithm="AKAv1-MD5")
    credentials = parse_credentials(value)
    assert (credentials.nonce, credentials.response, credentials.uri) == ("", "", f"sip:{domain}")
    assert not verify_authorization(credentials, method="REGISTER", password=b"")


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_broken_corpus_is_refused(path: Path) -> None:
    ((name, value),) = header_fields(path.read_bytes())
    with pytest.raises(AuthChallengeError) as info:
        if name in CHALLENGE_HEADERS:
            parse_challenge(value)
        else:
            parse_credentials(value)
    assert info.value.where is not None
    if name in CREDENTIAL_HEADERS:
        assert info.value.status_hint == 400


# --------------------------------------------------------------------------- worked examples


def test_rfc2617_section_3_5_example() -> None:
    challenge = parse_challenge(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    value = build_authorization(
        challenge,
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle Of Life",
        cnonce="0a4f113b",
        nc=1,
    )
    credentials = parse_credentials(value)
    assert credentials.response == "6629fae49393a05397450978507c4ef1"
    assert (credentials.qop, credentials.nc, credentials.cnonce) == ("auth", "00000001", "0a4f113b")
    assert credentials.opaque == "5ccc069c403ebaf9f0171e9517f40e41"
    assert 'response="6629fae49393a05397450978507c4ef1"' in value
    assert ",qop=auth,nc=00000001" in value  # unquoted, as servers expect
    assert verify_authorization(credentials, method="GET", password="Circle Of Life")


RFC7616 = (
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={alg}, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
)


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_section_3_9_1_example(algorithm: str, expected: str) -> None:
    challenge = parse_challenge(RFC7616.format(alg=algorithm))
    value = build_authorization(
        challenge,
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle of Life",
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        nc=1,
    )
    credentials = parse_credentials(value)
    assert credentials.response == expected
    assert credentials.algorithm == algorithm
    assert credentials.opaque == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
    assert verify_authorization(
        credentials, method="GET", password="Circle of Life", challenge=challenge
    )


def _h(name: str, text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.new(name, data).hexdigest()


def test_rfc2069_form_without_qop() -> None:
    challenge = parse_challenge('Digest realm="rcs.test", nonce="abc123"')
    value = build_authorization(
        challenge,
        method="REGISTER",
        uri="sip:rcs.test",
        username="alice",
        password="pw",
        cnonce="unused",
        nc=7,
    )
    credentials = parse_credentials(value)
    ha1, ha2 = _h("md5", "alice:rcs.test:pw"), _h("md5", "REGISTER:sip:rcs.test")
    assert credentials.response == _h("md5", f"{ha1}:abc123:{ha2}")
    assert (credentials.qop, credentials.nc, credentials.cnonce) == (None, None, None)
    assert "algorithm" not in value


@pytest.mark.parametrize(
    ("algorithm", "hash_name"), [("MD5-sess", "md5"), ("SHA-256-sess", "sha256")]
)
def test_session_algorithms_and_auth_int(algorithm: str, hash_name: str) -> None:
    body = b"hello body"
    challenge = parse_challenge(
        f'Digest realm="r", nonce="n0", algorithm={algorithm}, qop="auth-int"'
    )
    value = build_authorization(
        challenge,
        method="MESSAGE",
        uri="sip:bot@botplatform.lab",
        username="u",
        password="p",
        cnonce="c0",
        nc=2,
        body=body,
    )
    ha1 = _h(hash_name, f"{_h(hash_name, 'u:r:p')}:n0:c0")
    ha2 = _h(hash_name, f"MESSAGE:sip:bot@botplatform.lab:{_h(hash_name, body)}")
    expected = _h(hash_name, f"{ha1}:n0:00000002:c0:auth-int:{ha2}")
    assert parse_credentials(value).response == expected


def test_bytes_password_is_used_raw() -> None:
    raw = bytes(range(256))[::37]
    expected = _h("md5", f"{_h('md5', b'u:r:' + raw)}:n:{_h('md5', 'REGISTER:sip:r')}")
    got = compute_response(
        algorithm="AKAv1-MD5",
        username="u",
        realm="r",
        password=raw,
        method="REGISTER",
        uri="sip:r",
        nonce="n",
    )
    assert got == expected


# --------------------------------------------------------------------------- client behaviour


def test_stale_nonce_restarts_the_count_with_the_same_password() -> None:
    counter = NonceCounter()
    first = parse_challenge('Digest realm="rcs.test", nonce="n1", qop="auth"')
    assert [counter.next("n1"), counter.next("n1")] == [1, 2]
    stale = parse_challenge('Digest realm="rcs.test", nonce="n2", qop="auth", stale=true')
    assert stale.stale and not first.stale
    nc = counter.next(stale.nonce or "")
    assert nc == 1
    value = build_authorization(
        stale, method="REGISTER", uri="sip:rcs.test", username="u", password="pw", cnonce="c", nc=nc
    )
    credentials = parse_credentials(value)
    assert credentials.nc == "00000001" and credentials.nc_value == 1
    assert verify_authorization(credentials, method="REGISTER", password="pw", challenge=stale)
    assert not verify_authorization(credentials, method="REGISTER", password="pw", challenge=first)


def test_nonce_counter_forgets_old_nonces() -> None:
    counter = NonceCounter(capacity=2)
    assert counter.next("a") == 1 and counter.next("b") == 1
    assert counter.next("a") == 2
    assert counter.next("c") == 1  # evicts "b", the least recently used
    assert counter.next("b") == 1
    counter.forget("c")
    assert counter.next("c") == 1


def test_qop_choice() -> None:
    both = parse_challenge('Digest realm="r", nonce="n", qop="auth-int,auth"')
    value = build_authorization(
        both, method="M", uri="u", username="x", password="p", cnonce="c", nc=1
    )
    assert parse_credentials(value).qop == "auth"
    forced = build_authorization(
        both, method="M", uri="u", username="x", password="p", cnonce="c", nc=1, qop="auth-int"
    )
    assert parse_credentials(forced).qop == "auth-int"
    only_int = parse_challenge('Digest realm="r", nonce="n", qop="auth-int"')
    value = build_authorization(
        only_int, method="M", uri="u", username="x", password="p", cnonce="c", nc=1
    )
    assert parse_credentials(value).qop == "auth-int"


@pytest.mark.parametrize(
    ("header", "qop"),
    [
        ('Basic realm="r"', None),
        ('Digest realm="r", nonce="n", qop="auth-conf"', None),
        ('Digest realm="r", nonce="n", algorithm=SHA-512-256', None),
        ('Digest realm="r", nonce="n", algorithm=AKAv0-MD5', None),
        ('Digest realm="r", nonce="n", qop="auth"', "auth-int"),
    ],
)
def test_unanswerable_challenges(header: str, qop: str | None) -> None:
    challenge = parse_challenge(header)
    with pytest.raises(AuthChallengeError):
        build_authorization(
            challenge, method="M", uri="u", username="x", password="p", cnonce="c", nc=1, qop=qop
        )


def test_local_misuse_is_a_local_error() -> None:
    challenge = parse_challenge('Digest realm="r", nonce="n", qop="auth"')
    with pytest.raises(LocalProtocolError):
        build_authorization(
            challenge, method="M", uri="u", username="x", password="p", cnonce="c", nc=0
        )
    with pytest.raises(LocalProtocolError):
        build_authorization(
            challenge, method="M", uri="u", username="x\r\nEvil: 1", password="p", cnonce="c", nc=1
        )
    with pytest.raises(LocalProtocolError):
        make_challenge("r\n", "n")


def test_initial_authorization_forms() -> None:
    assert build_initial_authorization("alice@rcs.test", "rcs.test") == (
        'Digest username="alice@rcs.test",realm="rcs.test",uri="sip:rcs.test",nonce="",response=""'
    )
    assert build_initial_authorization("i", "d", uri="sip:pcscf.d", algorithm="AKAv1-MD5") == (
        'Digest username="i",realm="d",uri="sip:pcscf.d",nonce="",response="",algorithm=AKAv1-MD5'
    )


# --------------------------------------------------------------------------- server side


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", None])
@pytest.mark.parametrize("qop", ["auth", "auth-int", "auth,auth-int", None])
def test_make_challenge_answer_verify(algorithm: str | None, qop: str | None) -> None:
    header = make_challenge("rcs.test", "bm9uY2U=", algorithm=algorithm, qop=qop, opaque="op")
    challenge = parse_challenge(header)
    assert (challenge.realm, challenge.nonce, challenge.opaque) == ("rcs.test", "bm9uY2U=", "op")
    assert challenge.algorithm == algorithm
    value = build_authorization(
        challenge,
        method="REGISTER",
        uri="sip:rcs.test",
        username="+8613800000001@rcs.test",
        password="s3cret",
        cnonce="xyz",
        nc=1,
        body=b"b",
    )
    credentials = parse_credentials(value)
    for password, expected in (("s3cret", True), (b"s3cret", True), ("s3cret!", False)):
        assert expected == verify_authorization(
            credentials, method="REGISTER", password=password, body=b"b", challenge=challenge
        )


def test_make_challenge_forms() -> None:
    assert make_challenge("r", "n") == 'Digest realm="r",nonce="n",algorithm=MD5,qop="auth"'
    assert make_challenge("r", "n", algorithm=None, qop=None, stale=True) == (
        'Digest realm="r",nonce="n",stale=true'
    )
    header = make_challenge("r", "n", qop=("auth", "auth-int"), domain=("sip:r",))
    assert parse_challenge(header).qop == ("auth", "auth-int")
    with pytest.raises(AuthChallengeError):
        make_challenge("r", "n", algorithm="SHA-1")


def test_verify_refuses_mismatches() -> None:
    challenge = parse_challenge('Digest realm="r", nonce="n", qop="auth", opaque="o"')
    value = build_authorization(
        challenge, method="REGISTER", uri="sip:r", username="u", password="p", cnonce="c", nc=1
    )
    good = parse_credentials(value)
    assert verify_authorization(good, method="REGISTER", password="p", challenge=challenge)
    other_nonce = parse_challenge('Digest realm="r", nonce="m", qop="auth", opaque="o"')
    other_opaque = parse_challenge('Digest realm="r", nonce="n", qop="auth", opaque="x"')
    sha = parse_challenge('Digest realm="r", nonce="n", qop="auth", opaque="o", algorithm=SHA-256')
    for wrong in (other_nonce, other_opaque, sha):
        assert not verify_authorization(good, method="REGISTER", password="p", challenge=wrong)
    # A client that drops the offered qop is downgrading: refused.
    downgraded = build_authorization(
        parse_challenge('Digest realm="r", nonce="n", opaque="o"'),
        method="REGISTER",
        uri="sip:r",
        username="u",
        password="p",
        cnonce="c",
        nc=1,
    )
    assert not verify_authorization(
        parse_credentials(downgraded), method="REGISTER", password="p", challenge=challenge
    )
    # Credentials this module cannot evaluate are refused, not raised.
    for text in (
        'Digest username="u", realm="r", nonce="n", uri="sip:r", response="0", algorithm=X',
        'Digest username="u", realm="r", nonce="n", uri="sip:r", response="0", qop=auth',
        'Digest username="u", realm="r", nonce="n", uri="sip:r", response="0", qop=auth-conf',
        "Basic dXNlcjpwYXNz",
    ):
        assert not verify_authorization(parse_credentials(text), method="M", password="p")


def test_uppercase_hex_response_is_accepted() -> None:
    challenge = parse_challenge('Digest realm="r", nonce="n", qop="auth"')
    value = build_authorization(
        challenge, method="M", uri="u", username="x", password="p", cnonce="c", nc=1
    )
    credentials = parse_credentials(value)
    upper = dataclasses.replace(credentials, response=(credentials.response or "").upper())
    assert verify_authorization(upper, method="M", password="p")


# --------------------------------------------------------------------------- grammar details


def test_several_challenges_and_token68() -> None:
    found = parse_challenges(
        'Digest realm="a", nonce="b", Basic realm="x", Bearer abc==, Negotiate'
    )
    assert [c.scheme for c in found] == ["Digest", "Basic", "Bearer", "Negotiate"]
    assert found[2].token68 == "abc==" and found[1].realm == "x"
    assert parse_challenge(format_challenge(found[2])) == found[2]
    with pytest.raises(AuthChallengeError):
        parse_challenge('Digest realm="a", nonce="b", Basic realm="x"')
    basic = parse_credentials("Basic dXNlcjpwYXNz")
    assert (basic.scheme, basic.token68) == ("Basic", "dXNlcjpwYXNz")


def test_lenient_spellings() -> None:
    challenge = parse_challenge(
        '  DIGEST   Realm = "r" ,, NONCE=n , QOP="AUTH , auth-int ,", Stale="TRUE", '
        'algorithm="md5", charset=UTF-8,userhash=false'
    )
    assert (challenge.scheme, challenge.realm, challenge.nonce) == ("Digest", "r", "n")
    assert challenge.qop == ("auth", "auth-int") and challenge.stale
    assert challenge.algorithm == "md5" and parse_algorithm("md5").hash_name == "md5"
    assert challenge.param("CHARSET") == "UTF-8" and challenge.param("userhash") == "false"
    assert parse_challenge('Digest realm="", nonce=""').realm == ""


def test_algorithm_names() -> None:
    aka = parse_algorithm("AKAv2-MD5")
    assert (aka.hash_name, aka.session, aka.aka_version) == ("md5", False, 2)
    sess = parse_algorithm("sha-256-SESS")
    assert (sess.hash_name, sess.session, sess.aka_version) == ("sha256", True, None)
    assert parse_algorithm(None).name == "MD5" and parse_algorithm("").name == "MD5"
    for bad in ("SHA-1", "AKAv1", "AKAv1-SHA-1", "MD5-sess-sess", "AKAv0-MD5"):
        with pytest.raises(AuthChallengeError):
            parse_algorithm(bad)


def test_oversized_values_are_refused() -> None:
    with pytest.raises(AuthChallengeError):
        parse_challenge('Digest realm="' + "a" * 300_000 + '", nonce="n"')
    many = ", ".join(f"p{i}=v" for i in range(100))
    with pytest.raises(AuthChallengeError):
        parse_challenge(f'Digest realm="r", nonce="n", {many}')


# --------------------------------------------------------------------------- properties

_SAFE = st.characters(
    codec="utf-8",
    exclude_characters="".join(chr(c) for c in [*range(0, 9), *range(10, 32), 127]),
)
SAFE_TEXT = st.text(_SAFE, max_size=24)
TOKEN = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._!%*+`'~",
    min_size=1,
    max_size=12,
)
KNOWN = {"realm", "nonce", "opaque", "algorithm", "qop", "stale", "domain", "username", "uri"}
KNOWN |= {"response", "cnonce", "nc", "auts"}


@st.composite
def extra_params(draw: st.DrawFn) -> tuple[tuple[str, str], ...]:
    names = draw(st.lists(TOKEN.map(str.lower), max_size=4, unique=True))
    return tuple((name, draw(SAFE_TEXT)) for name in names if name not in KNOWN)


def _qop_item(text: str) -> bool:
    return bool(text) and "," not in text and text == text.strip().lower()


@st.composite
def challenges(draw: st.DrawFn) -> Challenge:
    return Challenge(
        scheme="Digest",
        realm=draw(SAFE_TEXT),
        nonce=draw(SAFE_TEXT),
        opaque=draw(st.none() | SAFE_TEXT),
        algorithm=draw(st.none() | SAFE_TEXT.filter(bool)),
        qop=tuple(draw(st.lists(SAFE_TEXT.filter(_qop_item), max_size=3))),
        stale=draw(st.booleans()),
        domain=tuple(draw(st.lists(SAFE_TEXT.filter(lambda t: t.split() == [t]), max_size=3))),
        params=draw(extra_params()),
    )


@st.composite
def credentials(draw: st.DrawFn) -> Credentials:
    optional = st.none() | SAFE_TEXT
    return Credentials(
        scheme="Digest",
        username=draw(SAFE_TEXT),
        realm=draw(SAFE_TEXT),
        nonce=draw(SAFE_TEXT),
        uri=draw(SAFE_TEXT),
        response=draw(SAFE_TEXT),
        algorithm=draw(st.none() | SAFE_TEXT.filter(bool)),
        cnonce=draw(optional),
        opaque=draw(optional),
        qop=draw(optional),
        nc=draw(st.none() | st.text("0123456789abcdefABCDEF", min_size=1, max_size=8)),
        auts=draw(optional),
        params=draw(extra_params()),
    )


@given(challenges())
def test_challenge_model_round_trips(challenge: Challenge) -> None:
    assert parse_challenge(format_challenge(challenge)) == challenge


@given(credentials())
def test_credentials_model_round_trips(creds: Credentials) -> None:
    assert parse_credentials(format_credentials(creds)) == creds


def _parse_any(text: str) -> None:
    for parse in (parse_challenge, parse_credentials, parse_challenges):
        try:
            parsed = parse(text)
        except AuthChallengeError:
            continue
        items = parsed if isinstance(parsed, tuple) else (parsed,)
        for item in items:
            if isinstance(item, Challenge):
                assert parse_challenges(format_challenge(item)) == (item,)
            else:
                assert parse_credentials(format_credentials(item)) == item


@given(st.text(max_size=200))
def test_arbitrary_text_gives_a_model_or_an_auth_error(text: str) -> None:
    _parse_any(text)


@given(st.text('Digest ,="\\ \trealmnoce=abc\x00', max_size=80))
def test_header_like_text_gives_a_model_or_an_auth_error(text: str) -> None:
    _parse_any(text)


CORPUS_VALUES = sorted(
    {value for path in CORPUS for _, value in header_fields(path.read_bytes())}
    | {value for path in BROKEN for _, value in header_fields(path.read_bytes())}
)


@given(
    st.sampled_from(CORPUS_VALUES),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3), st.text(max_size=3)), max_size=4),
)
def test_mutated_corpus_values_give_a_model_or_an_auth_error(
    value: str, edits: list[tuple[int, int, str]]
) -> None:
    for position, cut, insert in edits:
        at = position % (len(value) + 1)
        value = value[:at] + insert + value[at + cut :]
    _parse_any(value)


@given(
    username=SAFE_TEXT,
    realm=SAFE_TEXT,
    nonce=SAFE_TEXT,
    password=st.text(max_size=16) | st.binary(max_size=16),
    algorithm=st.sampled_from(["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "AKAv1-MD5"]),
    qop=st.sampled_from(["auth", "auth-int", None]),
    body=st.binary(max_size=32),
    nc=st.integers(1, 0xFFFFFFFF),
)
def test_answers_verify_and_wrong_passwords_do_not(
    username: str,
    realm: str,
    nonce: str,
    password: str | bytes,
    algorithm: str,
    qop: str | None,
    body: bytes,
    nc: int,
) -> None:
    header = make_challenge(realm, nonce, algorithm=algorithm, qop=qop)
    challenge = parse_challenge(header)
    value = build_authorization(
        challenge,
        method="REGISTER",
        uri="sip:rcs.test",
        username=username,
        password=password,
        cnonce="cn",
        nc=nc,
        body=body,
    )
    creds = parse_credentials(value)
    wrong: str | bytes = password + "x" if isinstance(password, str) else password + b"x"
    for secret, expected in ((password, True), (wrong, False)):
        assert expected == verify_authorization(
            creds, method="REGISTER", password=secret, body=body, challenge=challenge
        )
