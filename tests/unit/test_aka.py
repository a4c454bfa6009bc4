"""IMS AKA: the software USIM, vectors, resynchronisation, and AKA Digest end to end.

TS 33.102 §6.3 (AUTN, AUTS), RFC 3310 (AKAv1-MD5 nonce, password, auts), RFC 4169 (AKAv2).
Milenage itself is checked against TS 35.208 in ``test_milenage.py``; here the published
f1/f2/f5 values of a few sets pin down AUTN and XRES.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcs_terminal.errors import AuthChallengeError, AuthenticationError
from rcs_terminal.protocol.sip.aka import (
    AkaMacFailure,
    AkaOutcome,
    AkaResult,
    AkaSyncFailure,
    Usim,
    aka_nonce,
    aka_password,
    answer_aka_challenge,
    decode_auts,
    encode_auts,
    generate_vector,
    resync_from_auts,
    split_aka_nonce,
)
from rcs_terminal.protocol.sip.auth import (
    build_initial_authorization,
    make_challenge,
    parse_challenge,
    parse_credentials,
    verify_authorization,
)
from rcs_terminal.protocol.sip.milenage import Milenage

h = bytes.fromhex
AUTH_DIR = Path(__file__).parents[1] / "data" / "wire" / "auth"

# TS 35.208 §4.3 sets 1, 2 and 19: K, OPc, RAND, SQN, AMF and the published f1, f2, f5.
SETS = [
    (
        "465b5ce8b199b49faa5f0a2ee238a6bc",
        "cd63cb71954a9f4e48a5994e37a02baf",
        "23553cbe9637a89d218ae64dae47bf35",
        "ff9bb4d0b607",
        "b9b9",
        "4a9ffac354dfafb3",
        "a54211d5e3ba50bf",
        "aa689c648370",
    ),
    (
        "0396eb317b6d1c36f19c1c84cd6ffd16",
        "53c15671c60a4b731c55b4a441c0bde2",
        "c00d603103dcee52c4478119494202e8",
        "fd8eef40df7d",
        "af17",
        "5df5b31807e258b0",
        "d3a628ed988620f0",
        "c47783995f72",
    ),
    (
        "5122250214c33e723a5dd523fc145fc0",
        "981d464c7c52eb6e5036234984ad0bcf",
        "81e92b6c0ee0e12ebceba8d92a99dfa5",
        "16f3b3f70fc2",
        "c3ab",
        "2a5c23d15ee351d5",
        "28d7b0f2a2ec3de5",
        "ada15aeb7bb8",
    ),
]
K, OPC = h(SETS[0][0]), h(SETS[0][1])
RAND = h(SETS[0][2])
DOMAIN = "ims.mnc000.mcc460.3gppnetwork.org"
IMPI = f"460000000000001@{DOMAIN}"


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _fields(path: Path, name: str) -> list[str]:
    head = path.read_bytes().split(b"\r\n\r\n", 1)[0].decode()
    return [
        line.split(":", 1)[1].strip()
        for line in head.split("\r\n")
        if line.lower().startswith(name.lower() + ":")
    ]


# --------------------------------------------------------------------------- vectors and the USIM


@pytest.mark.parametrize("vectors", SETS, ids=["set1", "set2", "set19"])
def test_vector_matches_the_published_functions(vectors: tuple[str, ...]) -> None:
    k, opc, rand, sqn, amf, f1, f2, f5 = (h(v) for v in vectors)
    vector = generate_vector(k, opc, int.from_bytes(sqn, "big"), rand, amf)
    assert vector.autn == _xor(sqn, f5) + amf + f1
    assert vector.xres == f2 and vector.rand == rand
    usim = Usim(k, opc, 0, max_sqn_jump=None)  # the published SQNs are far from 0
    result = usim.authenticate(rand, vector.autn)
    assert (result.res, result.ck, result.ik) == (vector.xres, vector.ck, vector.ik)
    assert usim.sqn == int.from_bytes(sqn, "big")


def test_replay_is_a_sync_failure_with_a_verifiable_auts() -> None:
    usim = Usim(K, OPC, 0)
    vector = generate_vector(K, OPC, 0x41, RAND, b"\x80\x00")
    usim.authenticate(RAND, vector.autn)
    with pytest.raises(AkaSyncFailure) as info:
        usim.authenticate(RAND, vector.autn)
    auts = info.value.auts
    m = Milenage(K, opc=OPC)
    sqn_ms = (0x41).to_bytes(6, "big")
    assert auts == _xor(sqn_ms, m.f5star(RAND)) + m.f1star(RAND, sqn_ms, b"\x00\x00")
    assert resync_from_auts(K, OPC, RAND, auts) == 0x41
    assert usim.sqn == 0x41


def test_sqn_window() -> None:
    usim = Usim(K, OPC, 100, max_sqn_jump=1000)
    for sqn, fresh in ((100, False), (99, False), (1101, False), (1100, True), (1101, True)):
        vector = generate_vector(K, OPC, sqn, RAND, b"\x80\x00")
        if fresh:
            usim.authenticate(RAND, vector.autn)
            assert usim.sqn == sqn
        else:
            with pytest.raises(AkaSyncFailure):
                usim.authenticate(RAND, vector.autn)
    unlimited = Usim(K, OPC, 0, max_sqn_jump=None)
    unlimited.authenticate(RAND, generate_vector(K, OPC, (1 << 48) - 1, RAND, b"\0\0").autn)
    assert unlimited.sqn == (1 << 48) - 1


def test_amf_check_is_optional() -> None:
    vector = generate_vector(K, OPC, 5, RAND, b"\x00\x00")
    Usim(K, OPC, 0).authenticate(RAND, vector.autn)  # a real USIM accepts any AMF
    strict = Usim(K, OPC, 0, check_amf=True)
    with pytest.raises(AkaMacFailure):
        strict.authenticate(RAND, vector.autn)
    assert strict.sqn == 0
    strict.authenticate(RAND, generate_vector(K, OPC, 5, RAND, b"\x80\x00").autn)


def test_wrong_keys_are_a_mac_failure() -> None:
    vector = generate_vector(K, OPC, 7, RAND, b"\x80\x00")
    other_k = bytes([K[0] ^ 1]) + K[1:]
    with pytest.raises(AkaMacFailure):
        Usim(other_k, OPC, 0).authenticate(RAND, vector.autn)
    with pytest.raises(AkaMacFailure):
        Usim(K, bytes(16), 0).authenticate(RAND, vector.autn)


@given(
    sqn=st.integers(1, (1 << 48) - 1),
    rand=st.binary(min_size=16, max_size=16),
    index=st.integers(0, 31),
    mask=st.integers(1, 255),
)
def test_usim_never_accepts_a_tampered_challenge(
    sqn: int, rand: bytes, index: int, mask: int
) -> None:
    vector = generate_vector(K, OPC, sqn, rand, b"\x80\x00")
    challenge = bytearray(rand + vector.autn)
    challenge[index] ^= mask
    usim = Usim(K, OPC, 0, max_sqn_jump=None)
    with pytest.raises(AkaMacFailure):
        usim.authenticate(bytes(challenge[:16]), bytes(challenge[16:]))
    assert usim.sqn == 0
    assert usim.authenticate(rand, vector.autn).res == vector.xres


@given(sqn_ms=st.integers(0, (1 << 48) - 1), rand=st.binary(min_size=16, max_size=16))
def test_auts_round_trip_and_tamper(sqn_ms: int, rand: bytes) -> None:
    usim = Usim(K, OPC, sqn_ms)
    vector = generate_vector(K, OPC, sqn_ms, rand, b"\x80\x00")  # not fresh: SQN == SQN_MS
    with pytest.raises(AkaSyncFailure) as info:
        usim.authenticate(rand, vector.autn)
    auts = info.value.auts
    assert decode_auts(encode_auts(auts)) == auts
    assert resync_from_auts(K, OPC, rand, auts) == sqn_ms
    for index in (0, 5, 6, 13):
        bad = bytearray(auts)
        bad[index] ^= 0x01
        with pytest.raises(AkaMacFailure):
            resync_from_auts(K, OPC, rand, bytes(bad))


def test_length_errors() -> None:
    usim = Usim(K, OPC, 0)
    with pytest.raises(AuthenticationError):
        usim.authenticate(RAND[:15], bytes(16))
    with pytest.raises(AuthenticationError):
        usim.authenticate(RAND, bytes(15))
    with pytest.raises(AuthenticationError):
        Usim(K, OPC, 1 << 48)
    with pytest.raises(AuthenticationError):
        Usim(K, OPC, 0, amf=b"\x80")
    with pytest.raises(AuthenticationError):
        generate_vector(K, OPC, -1, RAND, b"\x80\x00")
    with pytest.raises(AuthChallengeError) as info:
        resync_from_auts(K, OPC, RAND, bytes(13))
    assert info.value.status_hint == 400


def test_secrets_stay_out_of_repr() -> None:
    vector = generate_vector(K, OPC, 9, RAND, b"\x80\x00")
    usim = Usim(K, OPC, 0)
    result = usim.authenticate(RAND, vector.autn)
    answer_text = repr(AkaResult(result.res, result.ck, result.ik))
    for text in (repr(usim), repr(vector), repr(result), answer_text):
        for secret in (K, OPC, vector.xres, vector.ck, vector.ik):
            assert secret.hex() not in text and repr(secret) not in text


# --------------------------------------------------------------------------- nonce, auts, password


def test_nonce_layout_and_server_data() -> None:
    vector = generate_vector(K, OPC, 3, RAND, b"\x80\x00")
    nonce = aka_nonce(vector, server_data=b"srv-data")
    assert base64.b64decode(nonce) == RAND + vector.autn + b"srv-data"
    assert split_aka_nonce(nonce) == (RAND, vector.autn)
    unpadded = aka_nonce(vector).rstrip("=")
    assert split_aka_nonce(unpadded) == (RAND, vector.autn)


@pytest.mark.parametrize(
    "nonce", ["", "not base64!", base64.b64encode(bytes(31)).decode(), "QUJD" * 2000, "你好"]
)
def test_bad_nonces(nonce: str) -> None:
    with pytest.raises(AuthChallengeError):
        split_aka_nonce(nonce)


@given(st.text(max_size=120))
def test_any_nonce_text_splits_or_fails_cleanly(text: str) -> None:
    try:
        rand, autn = split_aka_nonce(text)
    except AuthChallengeError:
        return
    assert len(rand) == len(autn) == 16


@given(st.text(max_size=40))
def test_any_auts_text_decodes_or_fails_cleanly(text: str) -> None:
    try:
        assert len(decode_auts(text)) == 14
    except AuthChallengeError as error:
        assert error.status_hint == 400


def test_aka_passwords() -> None:
    result = AkaResult(res=h(SETS[0][6]), ck=bytes(range(16)), ik=bytes(range(16, 32)))
    assert aka_password("AKAv1-MD5", result) == result.res
    prf = hmac.new(result.res + result.ik + result.ck, b"http-digest-akav2-password", hashlib.md5)
    assert aka_password("akav2-md5", result) == base64.b64encode(prf.digest())
    with pytest.raises(AuthenticationError, match="AKAv3 not supported"):
        aka_password("AKAv3-MD5", result)
    with pytest.raises(AuthChallengeError):
        aka_password("MD5", result)


# --------------------------------------------------------------------------- end to end


def _register(challenge_header: str, usim: Usim, nc: int = 1) -> tuple[AkaOutcome, str]:
    answer = answer_aka_challenge(
        parse_challenge(challenge_header),
        usim,
        method="REGISTER",
        uri=f"sip:{DOMAIN}",
        username=IMPI,
        cnonce="a1b2c3d4",
        nc=nc,
    )
    return answer.outcome, answer.authorization


@pytest.mark.parametrize("algorithm", ["AKAv1-MD5", "AKAv2-MD5"])
def test_register_401_authorization_verify(algorithm: str) -> None:
    initial = parse_credentials(build_initial_authorization(IMPI, DOMAIN, algorithm=algorithm))
    assert initial.username == IMPI and initial.response == ""
    # The network (lab S-CSCF + HSS) issues a vector for the next SQN.
    vector = generate_vector(K, OPC, 0x21, RAND, b"\x80\x00")
    header = make_challenge(DOMAIN, aka_nonce(vector), algorithm=algorithm)
    usim = Usim(K, OPC, 0)
    outcome, value = _register(header, usim)
    assert outcome is AkaOutcome.AUTHENTICATED and usim.sqn == 0x21
    credentials = parse_credentials(value)
    assert credentials.algorithm == algorithm and credentials.auts is None
    expected = AkaResult(res=vector.xres, ck=vector.ck, ik=vector.ik)
    password = aka_password(algorithm, expected)
    challenge = parse_challenge(header)
    assert verify_authorization(
        credentials, method="REGISTER", password=password, challenge=challenge
    )
    assert not verify_authorization(
        credentials, method="REGISTER", password=b"\x00" * 8, challenge=challenge
    )


def test_sync_failure_then_resync_then_success() -> None:
    usim = Usim(K, OPC, 0x5000)  # the SIM is ahead of the network
    hss_sqn = 0x21
    vector = generate_vector(K, OPC, hss_sqn, RAND, b"\x80\x00")
    outcome, value = _register(
        make_challenge(DOMAIN, aka_nonce(vector), algorithm="AKAv1-MD5"), usim
    )
    assert outcome is AkaOutcome.SYNC_FAILURE and usim.sqn == 0x5000
    credentials = parse_credentials(value)
    assert credentials.auts is not None
    # RFC 3310 §3.4: the response is computed with an empty password.
    assert verify_authorization(credentials, method="REGISTER", password=b"")
    hss_sqn = resync_from_auts(K, OPC, vector.rand, decode_auts(credentials.auts))
    assert hss_sqn == 0x5000
    fresh_rand = bytes(range(16))
    vector = generate_vector(K, OPC, hss_sqn + 32, fresh_rand, b"\x80\x00")
    outcome, value = _register(
        make_challenge(DOMAIN, aka_nonce(vector), algorithm="AKAv1-MD5"), usim
    )
    assert outcome is AkaOutcome.AUTHENTICATED and usim.sqn == 0x5000 + 32
    assert verify_authorization(parse_credentials(value), method="REGISTER", password=vector.xres)


def test_network_failure_sends_an_empty_response() -> None:
    fake_k = bytes(16)
    vector = generate_vector(fake_k, OPC, 0x21, RAND, b"\x80\x00")
    usim = Usim(K, OPC, 0)
    header = make_challenge(DOMAIN, aka_nonce(vector), algorithm="AKAv1-MD5", opaque="op")
    outcome, value = _register(header, usim)
    assert outcome is AkaOutcome.NETWORK_FAILURE and usim.sqn == 0
    credentials = parse_credentials(value)
    assert (credentials.response, credentials.auts, credentials.qop) == ("", None, None)
    assert credentials.opaque == "op"


def test_challenges_that_are_not_answered() -> None:
    usim = Usim(K, OPC, 0)
    vector = generate_vector(K, OPC, 0x21, RAND, b"\x80\x00")
    nonce = aka_nonce(vector)
    for header in (
        make_challenge(DOMAIN, nonce, algorithm="MD5"),
        make_challenge(DOMAIN, "bm90IGFrYQ==", algorithm="AKAv1-MD5"),
        make_challenge(DOMAIN, nonce, algorithm="AKAv1-MD5", qop="auth-conf"),
    ):
        with pytest.raises(AuthChallengeError):
            _register(header, usim)
    with pytest.raises(AuthenticationError, match="AKAv3 not supported"):
        _register(f'Digest realm="{DOMAIN}", nonce="{nonce}", algorithm=AKAv3-MD5', usim)
    assert usim.sqn == 0  # nothing was consumed


def test_corpus_exchange() -> None:
    (www,) = _fields(AUTH_DIR / "401-ims-aka.sip", "WWW-Authenticate")
    (answer,) = _fields(AUTH_DIR / "register-aka-answer.sip", "Authorization")
    (resync,) = _fields(AUTH_DIR / "register-aka-auts.sip", "Authorization")
    usim = Usim(K, OPC, 0)
    answered = answer_aka_challenge(
        parse_challenge(www),
        usim,
        method="REGISTER",
        uri=f"sip:{DOMAIN}",
        username=IMPI,
        cnonce="0a4f113b1c2d3e4f",
        nc=1,
    )
    assert answered.outcome is AkaOutcome.AUTHENTICATED
    assert answered.authorization == answer  # the same bytes as the capture
    # The S-CSCF side: rebuild the vector from the subscriber data and verify both requests.
    rand, autn = split_aka_nonce(parse_challenge(www).nonce or "")
    vector = generate_vector(K, OPC, 0x21, rand, b"\x80\x00")
    assert vector.autn == autn
    assert verify_authorization(parse_credentials(answer), method="REGISTER", password=vector.xres)
    resync_credentials = parse_credentials(resync)
    assert verify_authorization(resync_credentials, method="REGISTER", password=b"")
    auts = decode_auts(resync_credentials.auts or "")
    assert resync_from_auts(K, OPC, rand, auts) == 0x21
