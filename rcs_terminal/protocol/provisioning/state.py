"""What the provisioning flow remembers between runs, and how patient it is.

:class:`StoredState` is the per-SIM record the engine persists (keyed by IMSI, since every
SIM provisions on its own: provisioning_sip.md §6) and hands back when the handset starts:
the RCC.14 version and validity, the token, and the document in use. :class:`RetryPolicy`
gathers the timing and retry bounds of the flow; the defaults follow what deployed clients
do (rcsjta, Samsung; provisioning_sip.md §1). :class:`Phase` names where a flow stands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True, slots=True)
class StoredState:
    """What the engine persists per SIM (keyed by IMSI) and gives back at start.

    Deadlines are on the clock of the ``now`` values given to the flow; since this record
    outlives the process, use Unix time for them.

    Attributes:
        version: the last version received (0 when never provisioned).
        validity_until: when the configuration expires (for -3: the next poll), or None.
        token: the last ``TOKEN/token``, or None (a secret: not in ``repr``).
        token_until: when the token expires, or None (no expiry given).
        config_xml: the document of the configuration in use, or None.
        last_positive_version: the last version > 0 received (sent while dormant).
    """

    version: int = 0
    validity_until: float | None = None
    token: str | None = field(default=None, repr=False)
    token_until: float | None = None
    config_xml: bytes | None = field(default=None, repr=False)
    last_positive_version: int = 0

    def token_at(self, now: float) -> str | None:
        """The token if it is still valid at ``now``, else None."""
        if self.token_until is not None and now >= self.token_until:
            return None
        return self.token


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How patient the flow is. Times in seconds.

    Attributes:
        backoff_base: first back-off delay after a server error or no answer.
        backoff_cap: longest back-off delay.
        max_retries: retries per run after errors, 503s and 406s before failing.
        max_511: 511 answers per run before failing (rcsjta: 5).
        retry_511_delay: wait after a 511 (rcsjta: 5 s).
        max_otp_rounds: OTP steps per run before failing.
        otp_timeout: how long to wait for an OTP (rcsjta: 120 s).
        reset_retry_delay: wait after version 0, and dormant poll when validity is 0
            (Samsung's CMCC path: 300 s).
        max_retry_after: longest ``Retry-After`` honoured.
    """

    backoff_base: float = 5.0
    backoff_cap: float = 300.0
    max_retries: int = 5
    max_511: int = 5
    retry_511_delay: float = 5.0
    max_otp_rounds: int = 3
    otp_timeout: float = 120.0
    reset_retry_delay: float = 300.0
    max_retry_after: float = 86400.0

    def backoff(self, attempt: int) -> float:
        """The delay before retry number ``attempt`` (1-based): doubling, capped."""
        return float(min(self.backoff_cap, self.backoff_base * 2 ** min(attempt - 1, 32)))


class Phase(Enum):
    """Where a flow stands."""

    IDLE = "idle"
    """Nothing decided yet: the next call looks at the stored state."""
    SEND = "send"
    """A request is ready to go."""
    AWAIT_RESPONSE = "await-response"
    """A request is out; waiting for ``receive_response()`` or ``timeout()``."""
    AWAIT_OTP = "await-otp"
    """The server sent an OTP; waiting for ``receive_otp()``."""
    AWAIT_TERMS = "await-terms"
    """A configuration came with terms; waiting for ``accept_terms()``."""
    BACKOFF = "backoff"
    """Waiting before repeating a request."""
    DONE = "done"
    FAILED = "failed"
    DISABLED = "disabled"
