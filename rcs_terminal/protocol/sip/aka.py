"""IMS AKA: a software USIM, the network's authentication vectors, and AKA inside Digest.

This module owns the AKA procedure of 3GPP TS 33.102 §6.3 on top of
:mod:`~rcs_terminal.protocol.sip.milenage`, and its SIP form, "HTTP Digest AKA"
(RFC 3310; AKAv2 from RFC 4169):

- the network builds a vector: AUTN = (SQN xor AK) || AMF || MAC-A, and XRES, CK, IK
  (:func:`generate_vector`); the 401's nonce is base64(RAND || AUTN || server data)
  (:func:`aka_nonce`, RFC 3310 §3.2);
- the USIM (:class:`Usim`) recovers SQN, checks MAC-A (else :class:`AkaMacFailure`), then
  checks SQN freshness (else :class:`AkaSyncFailure` carrying AUTS = (SQN_MS xor AK*) ||
  MAC-S, computed with AMF = 0000 as TS 33.102 §6.3.3 requires), and returns RES, CK, IK;
- the Digest password is RES itself for ``AKAv1-MD5`` (RFC 3310 §3.3) and
  base64(HMAC-MD5(key = RES || IK || CK, "http-digest-akav2-password")) for ``AKAv2-MD5``
  (RFC 4169 §3; the PRF and its argument order were checked against several independent
  IMS stacks); a resynchronisation answers with an empty password and ``auts``
  (RFC 3310 §3.4), a MAC failure with an empty ``response`` and no ``auts`` (TS 24.229
  §5.1.1.5), which the network answers with 403;
- the network recovers SQN_MS from AUTS after checking MAC-S (:func:`resync_from_auts`).

SQN freshness (TS 33.102 Annex C, simplified): the USIM keeps one number, the highest SQN
it accepted (:attr:`Usim.sqn`, which the engine persists). A challenge is fresh when its
SQN is above that number and at most ``max_sqn_jump`` above it (Annex C's limit Δ on how
far SQN may jump, so that one large jump cannot run the counter to its end).
The per-IND array of Annex C is not modelled: out-of-order vectors from one batch are
treated as replays and trigger a resynchronisation, which networks handle.

Secrets (K, OPc, RES, CK, IK) never appear in ``repr()``.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hmac
from dataclasses import dataclass, field

from rcs_terminal.errors import AuthChallengeError, AuthenticationError
from rcs_terminal.protocol.sip.auth import (
    Challenge,
    Credentials,
    build_authorization,
    format_credentials,
    parse_algorithm,
)
from rcs_terminal.protocol.sip.milenage import (
    AMF_SIZE,
    KEY_SIZE,
    SQN_SIZE,
    Milenage,
)

__all__ = [
    "AkaAnswer",
    "AkaMacFailure",
    "AkaOutcome",
    "AkaResult",
    "AkaSyncFailure",
    "AuthVector",
    "Usim",
    "aka_nonce",
    "aka_password",
    "answer_aka_challenge",
    "decode_auts",
    "encode_auts",
    "generate_vector",
    "resync_from_auts",
    "split_aka_nonce",
]

SQN_MAX = (1 << 48) - 1
"""The largest sequence number (SQN has 48 bits)."""

DEFAULT_MAX_SQN_JUMP = 1 << 28
"""How far above the highest accepted SQN a fresh SQN may be, by default (Annex C's Δ)."""

AUTN_SIZE = 16
AUTS_SIZE = SQN_SIZE + 8
MAX_NONCE_CHARS = 4096
"""Longest AKA nonce accepted, in base64 characters (RAND and AUTN need 44)."""

_AKAV2_LABEL = b"http-digest-akav2-password"
_RESYNC_AMF = b"\x00\x00"


class AkaMacFailure(AuthenticationError):
    """MAC-A (or, on the network side, MAC-S) did not verify: the peer is not authentic."""

    default_title = "AKA authentication failed"


class AkaSyncFailure(AuthenticationError):
    """The challenge's SQN is not fresh; the network must resynchronise from ``auts``.

    Args:
        auts: AUTS, 14 bytes: (SQN_MS xor AK*) || MAC-S.
    """

    default_title = "AKA resynchronisation needed"

    def __init__(self, auts: bytes) -> None:
        super().__init__("SQN out of range: sending AUTS for resynchronisation")
        self.auts = auts


@dataclass(frozen=True, slots=True)
class AkaResult:
    """What the USIM returns for an authentic, fresh challenge (all secret).

    Attributes:
        res: RES, 8 bytes: the AKAv1 Digest password.
        ck: the cipher key CK, 16 bytes.
        ik: the integrity key IK, 16 bytes.
    """

    res: bytes = field(repr=False)
    ck: bytes = field(repr=False)
    ik: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class AuthVector:
    """An authentication vector, as an HSS hands it to the S-CSCF (TS 33.102 §6.3.2).

    Attributes:
        rand: RAND, 16 bytes.
        autn: AUTN, 16 bytes.
        xres: the expected RES (secret).
        ck: CK (secret).
        ik: IK (secret).
    """

    rand: bytes
    autn: bytes
    xres: bytes = field(repr=False)
    ck: bytes = field(repr=False)
    ik: bytes = field(repr=False)


class AkaOutcome(enum.Enum):
    """How :func:`answer_aka_challenge` answered."""

    AUTHENTICATED = "authenticated"
    """The network was authentic and SQN fresh: the response uses RES."""
    SYNC_FAILURE = "sync-failure"
    """SQN was not fresh: empty password plus ``auts``; expect a new 401."""
    NETWORK_FAILURE = "network-failure"
    """MAC-A did not verify: empty response; expect 403."""


@dataclass(frozen=True, slots=True)
class AkaAnswer:
    """The answer to an AKA challenge.

    Attributes:
        authorization: the ``Authorization`` header value to send.
        outcome: what happened.
        result: RES, CK and IK when authenticated (CK/IK would key IPsec), else None.
    """

    authorization: str
    outcome: AkaOutcome
    result: AkaResult | None = field(default=None, repr=False)


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _sqn_bytes(sqn: int) -> bytes:
    if not 0 <= sqn <= SQN_MAX:
        raise AuthenticationError(f"SQN {sqn} is outside 0..2**48-1")
    return sqn.to_bytes(SQN_SIZE, "big")


def _require(name: str, value: bytes, size: int) -> None:
    if len(value) != size:
        raise AuthenticationError(f"{name} must be {size} bytes, not {len(value)}")


class Usim:
    """A software USIM running Milenage (TS 33.102 §6.3.3, TS 35.206).

    Args:
        k: the subscriber key K (16 bytes).
        opc: OPc (16 bytes); see :func:`~rcs_terminal.protocol.sip.milenage.compute_opc`.
        sqn: the highest SQN accepted so far (persisted by the engine); 0 for a new SIM.
        amf: the AMF this subscription is provisioned with.
        check_amf: refuse an AUTN whose AMF differs from ``amf`` (a real USIM does not
            compare AMF, so this is off by default).
        max_sqn_jump: the most a fresh SQN may exceed :attr:`sqn`; None for no limit.

    Raises:
        AuthenticationError: when K, OPc, SQN or AMF is malformed.
    """

    __slots__ = ("_milenage", "amf", "check_amf", "max_sqn_jump", "sqn")

    def __init__(
        self,
        k: bytes,
        opc: bytes,
        sqn: int,
        *,
        amf: bytes = b"\x80\x00",
        check_amf: bool = False,
        max_sqn_jump: int | None = DEFAULT_MAX_SQN_JUMP,
    ) -> None:
        self._milenage = Milenage(k, opc=opc)
        _sqn_bytes(sqn)
        _require("AMF", amf, AMF_SIZE)
        self.sqn = sqn
        """The highest SQN accepted; updated by every successful :meth:`authenticate`."""
        self.amf = bytes(amf)
        self.check_amf = check_amf
        self.max_sqn_jump = max_sqn_jump

    def __repr__(self) -> str:
        return f"Usim(sqn={self.sqn:#014x}, keys=<secret>)"

    def authenticate(self, rand: bytes, autn: bytes) -> AkaResult:
        """Run the USIM side of AKA on a challenge.

        Args:
            rand: RAND, 16 bytes.
            autn: AUTN, 16 bytes.

        Returns:
            RES, CK and IK; :attr:`sqn` now holds the challenge's SQN.

        Raises:
            AkaMacFailure: MAC-A does not verify (or the AMF is refused): the network is
                not authentic. :attr:`sqn` is unchanged.
            AkaSyncFailure: SQN is not fresh; its ``auts`` goes back to the network.
            AuthenticationError: RAND or AUTN has the wrong length.
        """
        _require("RAND", rand, KEY_SIZE)
        _require("AUTN", autn, AUTN_SIZE)
        m = self._milenage
        res, ck, ik, ak = m.f2345(rand)
        sqn_bytes = _xor(autn[:SQN_SIZE], ak)
        amf = autn[SQN_SIZE : SQN_SIZE + AMF_SIZE]
        if not hmac.compare_digest(m.f1(rand, sqn_bytes, amf), autn[SQN_SIZE + AMF_SIZE :]):
            raise AkaMacFailure("MAC-A does not verify: the network is not authentic")
        if self.check_amf and amf != self.amf:
            raise AkaMacFailure(f"AMF {amf.hex()} is not the provisioned {self.amf.hex()}")
        sqn = int.from_bytes(sqn_bytes, "big")
        if sqn <= self.sqn or (
            self.max_sqn_jump is not None and sqn - self.sqn > self.max_sqn_jump
        ):
            raise AkaSyncFailure(self._auts(rand))
        self.sqn = sqn
        return AkaResult(res=res, ck=ck, ik=ik)

    def _auts(self, rand: bytes) -> bytes:
        sqn_ms = _sqn_bytes(self.sqn)
        concealed = _xor(sqn_ms, self._milenage.f5star(rand))
        return concealed + self._milenage.f1star(rand, sqn_ms, _RESYNC_AMF)


# --------------------------------------------------------------------------- nonce and password


def split_aka_nonce(nonce_b64: str) -> tuple[bytes, bytes]:
    """Read RAND and AUTN from an AKA nonce (RFC 3310 §3.2).

    Bytes after the first 32 are server-specific data and are ignored. Missing base64
    padding is tolerated.

    Returns:
        ``(rand, autn)``, 16 bytes each.

    Raises:
        AuthChallengeError: when the nonce is not base64 or decodes to under 32 bytes.
    """
    if len(nonce_b64) > MAX_NONCE_CHARS:
        raise AuthChallengeError("AKA nonce too long", where="param nonce")
    text = nonce_b64.strip()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise AuthChallengeError("AKA nonce is not base64", where="param nonce") from None
    if len(raw) < KEY_SIZE + AUTN_SIZE:
        raise AuthChallengeError(
            f"AKA nonce holds {len(raw)} bytes; RAND and AUTN need 32", where="param nonce"
        )
    return raw[:KEY_SIZE], raw[KEY_SIZE : KEY_SIZE + AUTN_SIZE]


def _aka_version(algorithm: str | None) -> int:
    version = parse_algorithm(algorithm).aka_version
    if version is None:
        raise AuthChallengeError(f"{algorithm!r} is not an AKA algorithm", where="algorithm")
    if version not in (1, 2):
        raise AuthenticationError(f"AKAv{version} not supported (only AKAv1 and AKAv2)")
    return version


def aka_password(algorithm: str, result: AkaResult) -> bytes:
    """The Digest password for an AKA algorithm: RES (AKAv1) or the AKAv2 derivation.

    The network side passes an :class:`AkaResult` built from the vector's XRES, CK, IK.

    Raises:
        AuthChallengeError: when ``algorithm`` is no AKA algorithm.
        AuthenticationError: for an AKA version other than 1 and 2.
    """
    if _aka_version(algorithm) == 1:
        return result.res
    prf = hmac.digest(result.res + result.ik + result.ck, _AKAV2_LABEL, "md5")
    return base64.b64encode(prf)


def encode_auts(auts: bytes) -> str:
    """AUTS as the ``auts`` parameter value (base64, RFC 3310 §3.4)."""
    return base64.b64encode(auts).decode("ascii")


def decode_auts(text: str) -> bytes:
    """Read an ``auts`` parameter value.

    Raises:
        AuthChallengeError: (``status_hint`` 400) when it is not base64 of 14 bytes.
    """
    stripped = text.strip()
    try:
        raw = base64.b64decode(stripped + "=" * (-len(stripped) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise AuthChallengeError(
            "auts is not base64", where="param auts", status_hint=400
        ) from None
    if len(raw) != AUTS_SIZE:
        raise AuthChallengeError(
            f"auts holds {len(raw)} bytes, not {AUTS_SIZE}", where="param auts", status_hint=400
        )
    return raw


# --------------------------------------------------------------------------- the UE side


def answer_aka_challenge(
    challenge: Challenge,
    usim: Usim,
    *,
    method: str,
    uri: str,
    username: str,
    cnonce: str,
    nc: int,
    body: bytes = b"",
) -> AkaAnswer:
    """Answer an AKA Digest challenge with the USIM (RFC 3310 §3.3-3.4, TS 24.229 §5.1.1.5).

    Args:
        challenge: a Digest challenge with an ``AKAv1-*`` or ``AKAv2-*`` algorithm.
        usim: the SIM; its :attr:`Usim.sqn` advances on success.
        method: the request method (``REGISTER``).
        uri: the digest-uri (``sip:<home domain>``).
        username: the IMPI.
        cnonce: a fresh client nonce (the caller owns randomness).
        nc: the nonce count for this nonce.
        body: the request body, for ``auth-int``.

    Returns:
        The header value and the outcome; see :class:`AkaOutcome`.

    Raises:
        AuthChallengeError: the challenge is no AKA Digest challenge, its nonce is
            malformed, or it offers no usable qop.
        AuthenticationError: an AKA version other than 1 or 2.
    """
    if not (challenge.is_digest and challenge.is_aka):
        raise AuthChallengeError("not an AKA Digest challenge", where="algorithm")
    algorithm = challenge.algorithm or ""
    _aka_version(algorithm)
    if challenge.qop and not {"auth", "auth-int"} & set(challenge.qop):
        raise AuthChallengeError(f"no supported qop among {challenge.qop}", where="qop")
    rand, autn = split_aka_nonce(challenge.nonce or "")

    def respond(password: bytes, auts: str | None = None) -> str:
        return build_authorization(
            challenge,
            method=method,
            uri=uri,
            username=username,
            password=password,
            cnonce=cnonce,
            nc=nc,
            body=body,
            auts=auts,
        )

    try:
        result = usim.authenticate(rand, autn)
    except AkaSyncFailure as failure:
        return AkaAnswer(respond(b"", encode_auts(failure.auts)), AkaOutcome.SYNC_FAILURE)
    except AkaMacFailure:
        rejection = Credentials(
            scheme="Digest",
            username=username,
            realm=challenge.realm,
            nonce=challenge.nonce,
            uri=uri,
            response="",
            algorithm=challenge.algorithm,
            opaque=challenge.opaque,
        )
        return AkaAnswer(format_credentials(rejection), AkaOutcome.NETWORK_FAILURE)
    header = respond(aka_password(algorithm, result))
    return AkaAnswer(header, AkaOutcome.AUTHENTICATED, result)


# --------------------------------------------------------------------------- the network side


def generate_vector(k: bytes, opc: bytes, sqn: int, rand: bytes, amf: bytes) -> AuthVector:
    """Build an authentication vector, as an HSS/AuC does (TS 33.102 §6.3.2).

    Args:
        k: the subscriber key K.
        opc: OPc.
        sqn: the sequence number to use (the network's SQN_HE, already advanced).
        rand: a fresh RAND, 16 bytes (the caller owns randomness).
        amf: the AMF, 2 bytes (``80 00`` is the common choice).

    Raises:
        AuthenticationError: when a key, RAND, AMF or SQN is malformed.
    """
    _require("AMF", amf, AMF_SIZE)
    m = Milenage(k, opc=opc)
    sqn_bytes = _sqn_bytes(sqn)
    xres, ck, ik, ak = m.f2345(rand)
    autn = _xor(sqn_bytes, ak) + bytes(amf) + m.f1(rand, sqn_bytes, amf)
    return AuthVector(rand=bytes(rand), autn=autn, xres=xres, ck=ck, ik=ik)


def aka_nonce(vector: AuthVector, *, server_data: bytes = b"") -> str:
    """The 401's nonce for a vector: base64(RAND || AUTN || server data) (RFC 3310 §3.2)."""
    return base64.b64encode(vector.rand + vector.autn + server_data).decode("ascii")


def resync_from_auts(k: bytes, opc: bytes, rand: bytes, auts: bytes) -> int:
    """Recover the USIM's SQN_MS from AUTS after checking MAC-S (TS 33.102 §6.3.5).

    The network then continues from SQN_MS: its next vector must use a larger SQN.

    Args:
        k: the subscriber key K.
        opc: OPc.
        rand: the RAND of the challenge the AUTS answered.
        auts: AUTS, 14 bytes (see :func:`decode_auts`).

    Raises:
        AkaMacFailure: MAC-S does not verify.
        AuthChallengeError: (``status_hint`` 400) AUTS has the wrong length.
    """
    if len(auts) != AUTS_SIZE:
        raise AuthChallengeError(
            f"AUTS holds {len(auts)} bytes, not {AUTS_SIZE}", where="param auts", status_hint=400
        )
    m = Milenage(k, opc=opc)
    sqn_ms = _xor(auts[:SQN_SIZE], m.f5star(rand))
    if not hmac.compare_digest(m.f1star(rand, sqn_ms, _RESYNC_AMF), auts[SQN_SIZE:]):
        raise AkaMacFailure("MAC-S in AUTS does not verify")
    return int.from_bytes(sqn_ms, "big")
