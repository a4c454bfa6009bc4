"""Authentication of REGISTER at the lab's S-CSCF: Digest and IMS AKA (TS 24.229 §5.4.1.2).

Only REGISTER is challenged, as in IMS (later requests are trusted because they arrive over
the flow the subscriber registered from; see :mod:`.registrar`). The subscriber's
``auth_type`` picks the scheme:

- **IMS AKA** (RFC 3310, TS 33.203 §6.1): each challenge is a fresh authentication vector
  from the subscriber's K/OPc and the network's sequence number, which goes up by one per
  vector (:attr:`LabSubscriber.sqn`). The 401 carries
  ``Digest realm="<home domain>", nonce="<base64 RAND||AUTN>", algorithm=AKAv1-MD5,
  qop="auth"``, and the expected password is XRES. An answer with ``auts`` means the USIM
  found the sequence number stale: the network takes SQN_MS from AUTS
  (:func:`~rcs_terminal.protocol.sip.aka.resync_from_auts`) and challenges again. An empty
  ``response`` without ``auts`` means the USIM rejected the network (MAC failure): 403.
  A vector is used once.
- **Digest** (RFC 3261 §22.4, RFC 7616): MD5 by default; with several algorithms
  configured (e.g. SHA-256 and MD5) one ``WWW-Authenticate`` per algorithm is sent, the
  preferred first (RFC 8760 §2.4). A nonce stays valid for ``nonce_lifetime`` and may be
  reused with a growing ``nc``.

A REGISTER without usable credentials (the initial one carries an empty ``response``,
TS 24.229 §5.1.1.2) or with an unknown or stale nonce is challenged. A wrong response is
challenged again until ``max_failures`` wrong answers in a row, which get 403.

Randomness (nonces, RAND) comes from an injectable source; secrets never leave this module
except inside the challenge headers.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rcs_terminal.errors import AuthChallengeError, AuthenticationError
from rcs_terminal.lab.subscribers import LabSubscriber
from rcs_terminal.protocol.sip.aka import (
    aka_nonce,
    decode_auts,
    generate_vector,
    resync_from_auts,
)
from rcs_terminal.protocol.sip.auth import (
    Challenge,
    Credentials,
    make_challenge,
    parse_challenge,
    verify_authorization,
)

__all__ = ["AKA_ALGORITHM", "AuthDecision", "AuthOutcome", "RegAuthenticator"]

AKA_ALGORITHM = "AKAv1-MD5"
"""The algorithm of the lab's AKA challenges (TS 24.229 §5.4.1.2.1)."""


class AuthOutcome(enum.Enum):
    """What the registrar does with a REGISTER after checking its credentials."""

    ACCEPTED = "accepted"
    """The credentials are right: go on with the registration."""
    CHALLENGE = "challenge"
    """Answer 401 with the decision's ``WWW-Authenticate`` values."""
    FORBIDDEN = "forbidden"
    """Answer 403 with the decision's reason."""


@dataclass(frozen=True, slots=True)
class AuthDecision:
    """The verdict on one REGISTER.

    Attributes:
        outcome: accept, challenge or refuse.
        challenges: the ``WWW-Authenticate`` values of a challenge, in order.
        reason: a short reason phrase for a refusal.
    """

    outcome: AuthOutcome
    challenges: tuple[str, ...] = ()
    reason: str = ""


@dataclass(slots=True)
class _Issued:
    """A challenge the registrar sent and has not seen answered yet."""

    challenge: Challenge
    issued_at: float
    xres: bytes | None = field(default=None, repr=False)
    rand: bytes | None = field(default=None, repr=False)
    last_nc: int = 0


class RegAuthenticator:
    """Challenges and checks REGISTER credentials for the lab's subscribers.

    Args:
        random_bytes: the randomness source for nonces and RANDs.
        digest_algorithms: the Digest algorithms offered, preferred first (``MD5``,
            ``SHA-256``).
        max_failures: wrong answers in a row before a 403.
        nonce_lifetime: seconds a Digest nonce (or an unanswered AKA vector) stays valid.
        max_nonces: outstanding challenges kept per subscriber (the oldest go first).
    """

    def __init__(
        self,
        *,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
        digest_algorithms: Sequence[str] = ("MD5",),
        max_failures: int = 2,
        nonce_lifetime: float = 300.0,
        max_nonces: int = 4,
    ) -> None:
        if not digest_algorithms:
            raise ValueError("offer at least one Digest algorithm")
        for algorithm in digest_algorithms:
            make_challenge("check", "check", algorithm=algorithm)  # refuses unknown ones
        self._random = random_bytes
        self.digest_algorithms = tuple(digest_algorithms)
        self.max_failures = max(1, max_failures)
        self.nonce_lifetime = nonce_lifetime
        self.max_nonces = max(1, max_nonces)
        self._issued: dict[str, dict[str, _Issued]] = {}
        self._failures: dict[str, int] = {}

    def authenticate(
        self,
        sub: LabSubscriber,
        credentials: Credentials | None,
        *,
        now: float,
        method: str = "REGISTER",
        body: bytes = b"",
    ) -> AuthDecision:
        """Check the credentials of a request from ``sub``.

        Args:
            sub: the subscriber the request claims to come from.
            credentials: its Digest credentials for the subscriber's realm, if any.
            now: the current time.
            method: the request method (part of the digest).
            body: the request body (for ``qop=auth-int``).

        Returns:
            The decision; a challenge or refusal also updates the subscriber's state (and,
            for AKA, its network sequence number).
        """
        key = sub.impi.lower()
        issued_map = self._issued.setdefault(key, {})
        creds = credentials
        if creds is None or not creds.nonce or creds.response is None:
            return self._challenge(sub, now)
        issued = issued_map.pop(creds.nonce, None)
        if issued is None:
            return self._challenge(sub, now)
        aka = sub.auth_type == "AKA"
        if now - issued.issued_at > self.nonce_lifetime:
            return self._challenge(sub, now, stale=not aka)
        if aka and creds.auts is not None:
            return self._resync(sub, issued, creds.auts, now)
        if aka and creds.response == "":
            self._failures.pop(key, None)
            return AuthDecision(AuthOutcome.FORBIDDEN, reason="Authentication Failed")
        password: bytes | str = (issued.xres or b"") if aka else (sub.password or "")
        nc = _nc(creds)
        fresh_nc = creds.qop is None or (nc is not None and nc > issued.last_nc)
        if fresh_nc and verify_authorization(
            creds, method=method, password=password, body=body, challenge=issued.challenge
        ):
            self._failures.pop(key, None)
            if not aka:
                issued.last_nc = nc or 0
                issued_map[creds.nonce] = issued
            return AuthDecision(AuthOutcome.ACCEPTED)
        failures = self._failures.get(key, 0) + 1
        if failures >= self.max_failures:
            self._failures.pop(key, None)
            return AuthDecision(AuthOutcome.FORBIDDEN, reason="Wrong Credentials")
        self._failures[key] = failures
        return self._challenge(sub, now)

    def forget(self, sub: LabSubscriber) -> None:
        """Drop the subscriber's outstanding challenges and failure count."""
        key = sub.impi.lower()
        self._issued.pop(key, None)
        self._failures.pop(key, None)

    # ------------------------------------------------------------------ internals

    def _resync(self, sub: LabSubscriber, issued: _Issued, auts: str, now: float) -> AuthDecision:
        if sub.k is None or sub.opc is None or issued.rand is None:
            return AuthDecision(AuthOutcome.FORBIDDEN, reason="No AKA Keys")
        try:
            sqn_ms = resync_from_auts(sub.k, sub.opc, issued.rand, decode_auts(auts))
        except (AuthChallengeError, AuthenticationError):
            return AuthDecision(AuthOutcome.FORBIDDEN, reason="Bad AUTS")
        sub.sqn = sqn_ms
        return self._challenge(sub, now)

    def _challenge(self, sub: LabSubscriber, now: float, *, stale: bool = False) -> AuthDecision:
        realm = sub.home_domain
        if sub.auth_type == "AKA":
            if sub.k is None or sub.opc is None:
                return AuthDecision(AuthOutcome.FORBIDDEN, reason="No AKA Keys")
            sub.sqn += 1
            rand = self._random(16)
            vector = generate_vector(sub.k, sub.opc, sub.sqn, rand, sub.amf)
            header = make_challenge(realm, aka_nonce(vector), algorithm=AKA_ALGORITHM)
            self._store(sub, _Issued(parse_challenge(header), now, vector.xres, rand))
            return AuthDecision(AuthOutcome.CHALLENGE, (header,))
        headers = []
        for algorithm in self.digest_algorithms:
            nonce = self._random(16).hex()
            header = make_challenge(realm, nonce, algorithm=algorithm, stale=stale)
            self._store(sub, _Issued(parse_challenge(header), now))
            headers.append(header)
        return AuthDecision(AuthOutcome.CHALLENGE, tuple(headers))

    def _store(self, sub: LabSubscriber, issued: _Issued) -> None:
        issued_map = self._issued.setdefault(sub.impi.lower(), {})
        nonce = issued.challenge.nonce or ""
        issued_map[nonce] = issued
        while len(issued_map) > self.max_nonces * len(self.digest_algorithms):
            del issued_map[next(iter(issued_map))]


def _nc(credentials: Credentials) -> int | None:
    try:
        return credentials.nc_value
    except ValueError:
        return None
