"""HTTP Digest authentication for SIP: computing and checking responses.

This module owns the Digest computation for both ends of a SIP exchange (RFC 2617 §3.2.2,
RFC 7616 §3.4, RFC 3261 §22.4), on the challenge and credentials models of
:mod:`rcs_terminal.protocol.sip.auth_header` (re-exported here, so callers need one import):

- algorithms MD5, MD5-sess, SHA-256, SHA-256-sess, and the AKA names of RFC 3310 §3 and
  RFC 4169 (``AKAv1-MD5``, ``AKAv2-MD5``: MD5 digests whose password comes from the USIM,
  see :mod:`rcs_terminal.protocol.sip.aka`);
- qop ``auth``, ``auth-int`` (the body is hashed into A2) and no qop (RFC 2069);
- the client side: :func:`build_authorization`, the empty credentials of the first IMS
  REGISTER (:func:`build_initial_authorization`), and a per-nonce :class:`NonceCounter`;
- the server side of the lab registrar: :func:`make_challenge` and
  :func:`verify_authorization`, which compares in constant time.

Sans-I/O: the client nonce is passed in (the caller owns randomness). Passwords only pass
through arguments; nothing here stores them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from rcs_terminal.errors import AuthChallengeError, LocalProtocolError
from rcs_terminal.protocol.sip.auth_header import (
    AKA_ALGORITHM,
    Challenge,
    Credentials,
    format_challenge,
    format_credentials,
    parse_challenge,
    parse_challenges,
    parse_credentials,
    quoted_string,
    token_or_quoted,
)

__all__ = [
    "Challenge",
    "Credentials",
    "DigestAlgorithm",
    "NonceCounter",
    "build_authorization",
    "build_initial_authorization",
    "compute_response",
    "format_challenge",
    "format_credentials",
    "make_challenge",
    "parse_algorithm",
    "parse_challenge",
    "parse_challenges",
    "parse_credentials",
    "verify_authorization",
]

_HASHES = {"MD5": "md5", "SHA-256": "sha256"}


@dataclass(frozen=True, slots=True)
class DigestAlgorithm:
    """A parsed ``algorithm`` value.

    Attributes:
        name: the value as written (``"MD5"`` when the header had none).
        hash_name: the :mod:`hashlib` name of H (``"md5"`` or ``"sha256"``).
        session: True for the ``-sess`` variants (HA1 also covers nonce and cnonce).
        aka_version: 1 or 2 for ``AKAv1-*`` / ``AKAv2-*`` (RFC 3310, RFC 4169), else None.
    """

    name: str
    hash_name: str
    session: bool
    aka_version: int | None


class NonceCounter:
    """Counts the requests sent per server nonce, for the ``nc`` parameter (RFC 7616 §3.4).

    A new nonce (after ``stale=true`` or a fresh 401) starts again at 1. Only the most
    recently used ``capacity`` nonces are remembered (a registrar and a proxy may each
    have one live).

    Args:
        capacity: how many nonces to remember.
    """

    __slots__ = ("_capacity", "_counts")

    def __init__(self, capacity: int = 8) -> None:
        self._capacity = max(1, capacity)
        self._counts: dict[str, int] = {}

    def next(self, nonce: str) -> int:
        """Count one more request under ``nonce`` and return its nc (1 for the first).

        Raises:
            LocalProtocolError: after 2**32 - 1 uses of one nonce (nc has 8 hex digits).
        """
        count = self._counts.pop(nonce, 0) + 1
        if count > 0xFFFFFFFF:
            raise LocalProtocolError("nonce count exhausted; a fresh challenge is needed")
        self._counts[nonce] = count
        if len(self._counts) > self._capacity:
            del self._counts[next(iter(self._counts))]
        return count

    def forget(self, nonce: str) -> None:
        """Drop the count of ``nonce`` (e.g. when the server refused it)."""
        self._counts.pop(nonce, None)


# --------------------------------------------------------------------------- digest


def parse_algorithm(name: str | None) -> DigestAlgorithm:
    """Read an ``algorithm`` value; None or empty means MD5 (RFC 2617 §3.2.1).

    Raises:
        AuthChallengeError: for an algorithm this module cannot compute.
    """
    text = name or "MD5"
    upper = text.upper()
    aka_version = None
    aka = AKA_ALGORITHM.fullmatch(upper)
    if aka is not None:
        aka_version, upper = int(aka.group(1)), aka.group(2)
    session = upper.endswith("-SESS")
    hash_name = _HASHES.get(upper[:-5] if session else upper)
    if hash_name is None or aka_version == 0:
        raise AuthChallengeError(f"unsupported digest algorithm {text!r}", where="algorithm")
    return DigestAlgorithm(text, hash_name, session, aka_version)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def compute_response(
    *,
    algorithm: str | None,
    username: str,
    realm: str,
    password: str | bytes,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
    body: bytes = b"",
) -> str:
    """Compute a Digest ``response`` (RFC 2617 §3.2.2, RFC 7616 §3.4.1-3.4.3).

    Args:
        algorithm: the algorithm value; None means MD5. AKA names hash with MD5.
        username: the user name, unquoted.
        realm: the realm, unquoted.
        password: the secret; bytes are used as they are (the AKA RES is raw bytes).
        method: the request method (``REGISTER``).
        uri: the digest-uri, as it will be written in the credentials.
        nonce: the server nonce.
        qop: ``auth``, ``auth-int`` or None (RFC 2069 form), as it will be written.
        nc: the nonce count as written (8 hex digits); needed with qop.
        cnonce: the client nonce; needed with qop and with ``-sess`` algorithms.
        body: the message body, hashed into A2 for ``auth-int``.

    Returns:
        The response as lower-case hex.

    Raises:
        AuthChallengeError: for an unsupported algorithm or qop, or a missing nc/cnonce.
    """
    alg = parse_algorithm(algorithm)

    def h(data: bytes) -> str:
        return hashlib.new(alg.hash_name, data).hexdigest()

    secret = _utf8(password) if isinstance(password, str) else bytes(password)
    ha1 = h(_utf8(f"{username}:{realm}:") + secret)
    if alg.session:
        if cnonce is None:
            raise AuthChallengeError(f"{alg.name} needs a cnonce", where="cnonce")
        ha1 = h(_utf8(f"{ha1}:{nonce}:{cnonce}"))
    kind = qop.lower() if qop is not None else None
    if kind is None or kind == "auth":
        ha2 = h(_utf8(f"{method}:{uri}"))
    elif kind == "auth-int":
        ha2 = h(_utf8(f"{method}:{uri}:{h(bytes(body))}"))
    else:
        raise AuthChallengeError(f"unsupported qop {qop!r}", where="qop")
    if qop is None:
        return h(_utf8(f"{ha1}:{nonce}:{ha2}"))
    if nc is None or cnonce is None:
        raise AuthChallengeError("qop needs nc and cnonce", where="qop")
    return h(_utf8(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}"))


def _choose_qop(challenge: Challenge, requested: str | None) -> str | None:
    offered = challenge.qop
    if requested is not None:
        if requested.lower() not in offered:
            raise AuthChallengeError(f"qop {requested!r} was not offered", where="qop")
        return requested.lower()
    for kind in ("auth", "auth-int"):
        if kind in offered:
            return kind
    if offered:
        raise AuthChallengeError(f"no supported qop among {', '.join(offered)}", where="qop")
    return None


def build_authorization(
    challenge: Challenge,
    *,
    method: str,
    uri: str,
    username: str,
    password: str | bytes,
    cnonce: str,
    nc: int,
    body: bytes = b"",
    qop: str | None = None,
    auts: str | None = None,
) -> str:
    """Answer a Digest challenge: the ``Authorization`` (or ``Proxy-Authorization``) value.

    ``auth`` is preferred when offered, then ``auth-int``; without a qop offer the RFC 2069
    form is used (no cnonce, no nc). After ``stale=true`` call again with the same
    password: the new nonce gets ``nc`` 1 from the :class:`NonceCounter`.

    Args:
        challenge: the parsed challenge.
        method: the request method.
        uri: the digest-uri (the Request-URI; ``sip:<home domain>`` for REGISTER).
        username: the user name (the IMPI for IMS).
        password: the password; for AKA the RES bytes or the AKAv2 password (see
            :func:`rcs_terminal.protocol.sip.aka.aka_password`), or ``b""`` with ``auts``.
        cnonce: a fresh client nonce; the caller supplies the randomness.
        nc: how many times this nonce has been used, this request included.
        body: the body, for ``auth-int``.
        qop: force a qop from the offer instead of choosing.
        auts: base64 AUTS for an AKA resynchronisation (RFC 3310 §3.4).

    Raises:
        AuthChallengeError: for a non-Digest scheme, an unsupported algorithm or qop.
        LocalProtocolError: for an nc outside 1..2**32-1 or values with control characters.
    """
    if not challenge.is_digest:
        raise AuthChallengeError(f"cannot answer a {challenge.scheme} challenge", where="scheme")
    if not 0 < nc <= 0xFFFFFFFF:
        raise LocalProtocolError(f"nonce count {nc} out of range")
    realm, nonce = challenge.realm or "", challenge.nonce or ""
    chosen = _choose_qop(challenge, qop)
    nc_text = f"{nc:08x}" if chosen else None
    session = parse_algorithm(challenge.algorithm).session
    response = compute_response(
        algorithm=challenge.algorithm,
        username=username,
        realm=realm,
        password=password,
        method=method,
        uri=uri,
        nonce=nonce,
        qop=chosen,
        nc=nc_text,
        cnonce=cnonce,
        body=body,
    )
    return format_credentials(
        Credentials(
            scheme="Digest",
            username=username,
            realm=realm,
            nonce=nonce,
            uri=uri,
            response=response,
            algorithm=challenge.algorithm,
            cnonce=cnonce if chosen or session else None,
            opaque=challenge.opaque,
            qop=chosen,
            nc=nc_text,
            auts=auts,
        )
    )


def build_initial_authorization(
    username: str, realm: str, *, uri: str | None = None, algorithm: str | None = None
) -> str:
    """The credentials of the first, unauthenticated IMS REGISTER (TS 24.229 §5.1.1.2).

    ``Digest username="<IMPI>",realm="<domain>",uri="sip:<domain>",nonce="",response=""``,
    plus ``,algorithm=AKAv1-MD5`` (or the given algorithm) when one is given.

    Args:
        username: the private user identity (IMPI).
        realm: the home network domain.
        uri: the digest-uri; ``sip:<realm>`` by default.
        algorithm: e.g. ``"AKAv1-MD5"`` for AKA; None to leave it out.
    """
    digest_uri = uri if uri is not None else f"sip:{realm}"
    value = (
        f"Digest username={quoted_string('username', username)},"
        f"realm={quoted_string('realm', realm)},"
        f'uri={quoted_string("uri", digest_uri)},nonce="",response=""'
    )
    if algorithm is not None:
        value += f",algorithm={token_or_quoted('algorithm', algorithm)}"
    return value


def make_challenge(
    realm: str,
    nonce: str,
    *,
    algorithm: str | None = "MD5",
    qop: str | Sequence[str] | None = "auth",
    opaque: str | None = None,
    stale: bool = False,
    domain: Sequence[str] = (),
) -> str:
    """A ``WWW-Authenticate`` value for the lab registrar (RFC 3261 §22.4).

    Args:
        realm: the realm.
        nonce: a fresh nonce (for AKA, :func:`rcs_terminal.protocol.sip.aka.aka_nonce`).
        algorithm: the algorithm; None leaves it out (MD5 implied).
        qop: ``"auth"``, ``"auth,auth-int"``, a sequence of them, or None (RFC 2069).
        opaque: an opaque value to be returned, if any.
        stale: True when the client's nonce merely expired.
        domain: the protection-space URIs, if any.

    Raises:
        AuthChallengeError: for an algorithm :func:`compute_response` cannot verify.
        LocalProtocolError: for values with control characters.
    """
    if algorithm is not None:
        parse_algorithm(algorithm)
    offers = qop.split(",") if isinstance(qop, str) else (qop or ())
    return format_challenge(
        Challenge(
            scheme="Digest",
            realm=realm,
            nonce=nonce,
            opaque=opaque,
            algorithm=algorithm,
            qop=tuple(q.strip().lower() for q in offers if q.strip()),
            stale=stale,
            domain=tuple(domain),
        )
    )


def verify_authorization(
    credentials: Credentials,
    *,
    method: str,
    password: str | bytes,
    body: bytes = b"",
    challenge: Challenge | None = None,
) -> bool:
    """Check Digest credentials against the password (for the lab registrar).

    The response is recomputed from the credentials' own values and compared in constant
    time. Checking that the nonce is one the server issued and still fresh, and that nc
    grows, is the caller's job; passing the ``challenge`` that was sent also checks that
    realm, nonce, opaque, algorithm and qop answer it.

    Args:
        credentials: the parsed credentials.
        method: the method of the request that carried them.
        password: the user's password; for AKA the XRES (or AKAv2 password), and ``b""``
            when the credentials carry ``auts``.
        body: the request body, for ``auth-int``.
        challenge: the challenge these credentials should answer, if known.

    Returns:
        True when the response is right; False otherwise, including for credentials this
        module cannot evaluate (other schemes, unknown algorithms, a missing nc/cnonce).
    """
    c = credentials
    if c.scheme != "Digest" or c.response is None or c.username is None:
        return False
    if c.realm is None or c.nonce is None or c.uri is None:
        return False
    try:
        if challenge is not None and not _answers(c, challenge):
            return False
        expected = compute_response(
            algorithm=c.algorithm,
            username=c.username,
            realm=c.realm,
            password=password,
            method=method,
            uri=c.uri,
            nonce=c.nonce,
            qop=c.qop,
            nc=c.nc,
            cnonce=c.cnonce,
            body=body,
        )
    except AuthChallengeError:
        return False
    return hmac.compare_digest(_utf8(expected), _utf8(c.response.lower()))


def _answers(credentials: Credentials, challenge: Challenge) -> bool:
    if (credentials.realm, credentials.nonce) != (challenge.realm, challenge.nonce):
        return False
    if challenge.opaque is not None and credentials.opaque != challenge.opaque:
        return False
    if challenge.qop and (credentials.qop or "").lower() not in challenge.qop:
        return False
    ours, theirs = parse_algorithm(challenge.algorithm), parse_algorithm(credentials.algorithm)
    return (ours.hash_name, ours.session) == (theirs.hash_name, theirs.session)
