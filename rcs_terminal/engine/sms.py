"""The handset's SMS receiver (the emulated radio).

On the lab network a SIM receives SMS from the lab's SMS centre (:mod:`rcs_terminal.lab.smsc`)
by long-polling its inbox, only while it is waiting for one (for the RCC.14 OTP), so an idle SIM
costs nothing. Received SMS go into the trace as ``SMS`` records; a data SMS to the RCS client
port is an OTP by definition (RCC.14), so its payload is masked there.

Against a real network there is no SMS path: the user types the OTP (``--otp`` or the TUI).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from rcs_terminal.engine.http import HttpClient
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.errors import NetworkError

_OTP = re.compile(r"(?<!\d)(\d{4,8})(?!\d)")


@dataclass(frozen=True)
class ReceivedSms:
    """An SMS as the handset received it."""

    seq: int
    sender: str
    text: str
    port: int


def extract_otp(sms: ReceivedSms, sms_port: int) -> str | None:
    """The one-time password carried by ``sms``, if it is an RCC.14 OTP SMS.

    A data SMS to the client's port carries the OTP as its whole payload; with port 0 the OTP
    is a plain text SMS and the code is the first group of 4 to 8 digits.
    """
    if sms_port and sms.port == sms_port:
        return sms.text.strip() or None
    if sms.port == 0:
        match = _OTP.search(sms.text)
        return match.group(1) if match else None
    return None


class SmsReceiver:
    """Reads one SIM's SMS from the lab SMS centre.

    Args:
        smsc_url: the SMS centre's base URL (``http://127.0.0.1:PORT``).
        msisdn: the SIM's number.
        trace: where received SMS are recorded.
        sim: the SIM slot.
    """

    def __init__(
        self, smsc_url: str, msisdn: str, *, trace: TraceRecorder | None = None,
        sim: int | None = None, sms_port: int = 0,
    ) -> None:
        self._url = smsc_url.rstrip("/")
        self._msisdn = msisdn
        self._trace = trace
        self._sim = sim
        self._sms_port = sms_port
        self._after = 0
        self._http = HttpClient(None, allow_dns=False, timeout=70.0)

    async def skip_existing(self) -> None:
        """Forget SMS already in the inbox (a phone only sees what arrives after boot)."""
        for sms in await self._poll(0.0):
            self._after = max(self._after, sms.seq)

    async def wait_for(
        self, predicate: Callable[[ReceivedSms], bool], timeout: float
    ) -> ReceivedSms | None:
        """Return the first new SMS matching ``predicate``, or None after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            for sms in await self._poll(min(remaining, 30.0)):
                self._after = max(self._after, sms.seq)
                self._record(sms)
                if predicate(sms):
                    return sms

    async def close(self) -> None:
        await self._http.close()

    async def _poll(self, wait: float) -> list[ReceivedSms]:
        query = urlencode({"msisdn": self._msisdn, "after": self._after, "wait": f"{wait:.3f}"})
        resp = await self._http.request("GET", f"{self._url}/sms/inbox?{query}")
        if resp.status != 200:
            raise NetworkError(f"SMS centre answered {resp.status} {resp.reason}")
        try:
            items = json.loads(resp.body)
            return [
                ReceivedSms(int(i["seq"]), str(i["sender"]), str(i["text"]), int(i["port"]))
                for i in items
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise NetworkError(f"SMS centre sent an unreadable inbox: {exc}") from exc

    def _record(self, sms: ReceivedSms) -> None:
        if self._trace is None:
            return
        text = "***" if self._sms_port and sms.port == self._sms_port else sms.text
        raw = f"SMS from {sms.sender} to {self._msisdn} port {sms.port}\r\n\r\n{text}"
        self._trace.record("in", "SMS", raw.encode(), transport="radio", local=self._msisdn,
                           remote=sms.sender, sim=self._sim)
