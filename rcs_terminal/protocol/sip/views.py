"""Typed, lazily parsed views of a SIP message's headers (RFC 3261 §8.1.1, §20).

:class:`MessageViews` is the base of :class:`~rcs_terminal.protocol.sip.message.Request`
and :class:`~rcs_terminal.protocol.sip.message.Response`: it owns the properties that
turn raw header text into :class:`~rcs_terminal.protocol.sip.headers.Via`,
:class:`~rcs_terminal.protocol.sip.headers.NameAddr` and
:class:`~rcs_terminal.protocol.sip.headers.CSeq` values, and the writer of the message.

A header is parsed only when its property is read, through a bounded memo keyed by the raw
text (typed values are immutable, so messages may share them): reading ``msg.vias`` twice,
or the same From in every message of a dialog, parses once. The raw text is looked up each
time, so a header changed with ``headers.set()`` is seen at once. Errors name the header
and carry ``status_hint=400`` for a request (the answer a UAS gives, §8.2).
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

from rcs_terminal.errors import SipParseError
from rcs_terminal.protocol.sip.fields import Headers
from rcs_terminal.protocol.sip.grammar import split_list
from rcs_terminal.protocol.sip.headers import (
    CSeq,
    NameAddr,
    Via,
    parse_cseq,
    parse_name_addr,
    parse_via,
)

__all__ = ["MessageViews"]


@lru_cache(maxsize=1024)
def _vias(raws: tuple[str, ...]) -> tuple[Via, ...]:
    return tuple(parse_via(item) for item in _items(raws))


@lru_cache(maxsize=1024)
def _name_addrs(raws: tuple[str, ...]) -> tuple[NameAddr, ...]:
    return tuple(parse_name_addr(item) for item in _items(raws))


@lru_cache(maxsize=2048)
def _name_addr(raw: str) -> NameAddr:
    return parse_name_addr(raw)


@lru_cache(maxsize=1024)
def _cseq(raw: str) -> CSeq:
    return parse_cseq(raw)


def _items(raws: tuple[str, ...]) -> list[str]:
    items: list[str] = []
    for raw in raws:
        if "," in raw:
            items.extend(split_list(raw))
        else:
            items.append(raw)
    return items


class MessageViews:
    """The header views and the writer shared by :class:`Request` and :class:`Response`."""

    headers: Headers
    body: bytes
    _status_hint: ClassVar[int | None] = None

    def _start_line(self) -> str:
        raise NotImplementedError

    def _error(self, name: str, exc: SipParseError | None = None) -> SipParseError:
        if exc is None:
            return SipParseError(
                f"missing {name} header", where=f"header {name}", status_hint=self._status_hint
            )
        where = f"header {name}"
        if exc.where is not None and exc.where != name:
            where = f"{where}: {exc.where}"
        return SipParseError(exc.reason, where=where, status_hint=self._status_hint)

    @property
    def call_id(self) -> str:
        """The Call-ID.

        Raises:
            SipParseError: when it is missing or empty.
        """
        value = self.headers.get("Call-ID")
        if not value:
            raise self._error("Call-ID")
        return value

    @property
    def cseq(self) -> CSeq:
        """The CSeq, parsed.

        Raises:
            SipParseError: when it is missing or malformed.
        """
        raw = self.headers.get("CSeq")
        if raw is None:
            raise self._error("CSeq")
        try:
            return _cseq(raw)
        except SipParseError as exc:
            raise self._error("CSeq", exc) from exc

    @property
    def vias(self) -> list[Via]:
        """Every Via value, top first (comma-joined values split).

        Raises:
            SipParseError: when there is none or one is malformed.
        """
        raws = self.headers.raw_key("Via")
        if not raws:
            raise self._error("Via")
        try:
            return list(_vias(raws))
        except SipParseError as exc:
            raise self._error("Via", exc) from exc

    @property
    def top_via(self) -> Via:
        """The first Via value (the one the receiver of a response matches on)."""
        return self.vias[0]

    @property
    def from_(self) -> NameAddr:
        """The From header, parsed.

        Raises:
            SipParseError: when it is missing or malformed.
        """
        return self._address("From")

    @property
    def to(self) -> NameAddr:
        """The To header, parsed.

        Raises:
            SipParseError: when it is missing or malformed.
        """
        return self._address("To")

    def _address(self, name: str) -> NameAddr:
        raw = self.headers.get(name)
        if raw is None:
            raise self._error(name)
        try:
            return _name_addr(raw)
        except SipParseError as exc:
            raise self._error(name, exc) from exc

    @property
    def contacts(self) -> list[NameAddr]:
        """Every Contact value (possibly none; ``Contact: *`` gives a wildcard).

        Raises:
            SipParseError: when one is malformed.
        """
        return self.addresses("Contact")

    def addresses(self, name: str) -> list[NameAddr]:
        """Every value of an address-list header (Route, Record-Route, Path,
        Service-Route, P-Associated-URI, P-Asserted-Identity, Accept-Contact...), parsed.

        Raises:
            SipParseError: when one is malformed.
        """
        raws = self.headers.raw_key(name)
        if not raws:
            return []
        try:
            return list(_name_addrs(raws))
        except SipParseError as exc:
            raise self._error(name, exc) from exc

    @property
    def content_type(self) -> str | None:
        """The raw Content-Type value, if any."""
        return self.headers.get("Content-Type")

    def validate(self) -> None:
        """Read every mandatory header (Via, From, To, Call-ID, CSeq; §8.1.1).

        Raises:
            SipParseError: on the first one missing or malformed.
        """
        self.vias  # noqa: B018
        self.from_  # noqa: B018
        self.to  # noqa: B018
        self.call_id  # noqa: B018
        self.cseq  # noqa: B018

    def to_bytes(self) -> bytes:
        """Write the message, with a Content-Length that matches the body."""
        length = f"Content-Length: {len(self.body)}"
        lines = [self._start_line()]
        wrote_length = False
        for name, value in self.headers:
            if name == "Content-Length":
                if not wrote_length:
                    lines.append(length)
                    wrote_length = True
            else:
                lines.append(f"{name}: {value}")
        if not wrote_length:
            lines.append(length)
        lines.append("\r\n")
        return b"".join(("\r\n".join(lines).encode("utf-8"), self.body))
