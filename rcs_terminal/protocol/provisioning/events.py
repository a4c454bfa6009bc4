"""What goes in and out of the provisioning flow: HTTP exchanges and actions.

The flow (:mod:`.flow`) never touches the network. It hands the engine an
:class:`HttpRequest` to perform, and takes back an :class:`HttpResponse` (or a timeout).
Between requests it tells the engine what it is waiting for: an OTP (:class:`WaitForOtp`),
the user's answer to the operator's terms (:class:`WaitForTerms`), or a moment in time
(:class:`Wait`); and how things ended: :class:`Done`, :class:`Failed` or
:class:`Disabled`. All of them are frozen values; :data:`Action` is their union.

Times (``until``, ``deadline``, ``refresh_at``...) are on the same clock as the ``now``
values the engine passes in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from rcs_terminal.protocol.provisioning.config import RcsConfig, TermsMessage

Step = Literal["cookie", "config", "otp"]
"""Which request of RCC.14 this is: the plain-HTTP cookie probe, the HTTPS configuration
request, or the configuration request repeated with the OTP."""

_SECRET_PARAMS = re.compile(r"([?&](?:token|OTP)=)[^&]*")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request for the engine to send.

    Attributes:
        method: always ``GET`` in RCC.14.
        url: the final URL, already percent-encoded: send it as is.
        headers: ``(name, value)`` pairs.
        step: which request of the flow this is.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    step: Step

    def redacted_url(self) -> str:
        """The URL with the ``token`` and ``OTP`` values masked, for traces and logs."""
        return _SECRET_PARAMS.sub(r"\1***", self.url)


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """The server's answer, as the engine received it.

    Attributes:
        status: the HTTP status code.
        headers: ``(name, value)`` pairs; repeated headers (``Set-Cookie``) stay separate.
        body: the response body.
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (any case), or None."""
        key = name.casefold()
        return next((value for field, value in self.headers if field.casefold() == key), None)

    def header_values(self, name: str) -> list[str]:
        """Return every value of header ``name`` (any case), in order."""
        key = name.casefold()
        return [value for field, value in self.headers if field.casefold() == key]


@dataclass(frozen=True, slots=True)
class WaitForOtp:
    """The server sent an OTP by SMS: pass it to ``receive_otp()`` before ``deadline``.

    Attributes:
        sms_port: ``POLICY/SMS_port`` if the server named one (0 = plain-text SMS).
        deadline: after this, the flow gives up on this OTP and retries.
    """

    sms_port: int | None
    deadline: float


@dataclass(frozen=True, slots=True)
class WaitForTerms:
    """The configuration came with terms the user must answer: call ``accept_terms()``.

    Attributes:
        terms: the ``MSG`` to show.
    """

    terms: TermsMessage


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing to do before ``until``; call ``next_action()`` again then.

    Attributes:
        until: when to ask again.
        reason: why (for the trace and the status line).
    """

    until: float
    reason: str


@dataclass(frozen=True, slots=True)
class Done:
    """A usable configuration is in place.

    Attributes:
        config: the configuration.
        refresh_at: when to call ``next_action()`` again to refresh it (None: only on a
            new trigger).
    """

    config: RcsConfig
    refresh_at: float | None


@dataclass(frozen=True, slots=True)
class Failed:
    """Provisioning did not succeed this time.

    The flow still remembers any older configuration (``flow.config``), which the engine
    may keep using.

    Attributes:
        reason: what went wrong, in one sentence.
        retry_at: when ``next_action()`` will try again (None: only on ``restart()``).
        status: the HTTP status behind it, if any.
    """

    reason: str
    retry_at: float | None
    status: int | None = None


@dataclass(frozen=True, slots=True)
class Disabled:
    """The server (or the user) switched RCS off for this SIM.

    Attributes:
        reason: why.
        version: the version that said so (-1 reset and disabled, -2 disabled,
            -3 dormant).
        poll_at: for a dormant client, when ``next_action()`` will ask again.
        config: the configuration kept while disabled (-2, -3), or None.
    """

    reason: str
    version: int
    poll_at: float | None = None
    config: RcsConfig | None = None


Action = HttpRequest | WaitForOtp | WaitForTerms | Wait | Done | Failed | Disabled
"""Everything ``ProvisioningFlow.next_action()`` can return."""
