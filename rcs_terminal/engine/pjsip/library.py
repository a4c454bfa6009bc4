"""The process's one pjsua2 Endpoint, driven from the asyncio event loop.

pjsua2 allows one :class:`pjsua2.Endpoint` per process. :class:`PjsipLibrary` owns it: it is
created when the first pjsip SIM starts (:meth:`PjsipLibrary.acquire`) and destroyed when
the last one stops (:meth:`PjsipLibrary.release`), so an idle process holds no pjsip state
at all. The endpoint runs with a null audio device, no media threads and message logging
routed to :class:`~rcs_terminal.engine.pjsip.log.LogRouter`. Each SIM gets its own
transport (its own local port), so two SIMs of one handset never share a Contact.

Theory of operation: how pjsip's events reach asyncio
-----------------------------------------------------

pjsip needs someone to run its event loop (socket reads, transaction timers, registration
refresh). Two designs were possible:

(a) ``UaConfig.threadCnt = 0`` and the asyncio loop itself calls ``libHandleEvents(0)``
    (a non-blocking poll) from a ``loop.call_later`` callback that re-arms itself;
(b) a dedicated pjsip thread blocking in ``libHandleEvents(timeout)``, registered with
    pjlib, handing every callback to the loop with ``loop.call_soon_threadsafe``.

This module does (a), for three reasons:

- **safety**: every pjsua2 call and every callback (``onRegState``, ``onInstantMessage``,
  the log writer...) happens on the event-loop thread, the one that created the library and
  is therefore registered with pjlib. Calling pjlib from an unregistered thread aborts the
  whole interpreter (an assertion in pjlib, SIGABRT, measured); with (b) every call from
  the loop into pjsua2 would be a cross-thread call and every Python object touched by a
  callback would need locking. :meth:`PjsipLibrary.ensure_thread` still registers a loop
  running in another thread before its first call, as a safety net;
- **CPU when idle**: the poller only exists while at least one pjsip SIM is started. It
  backs off from :data:`MIN_POLL` after activity to :data:`MAX_POLL` when nothing happens,
  so an idle process wakes 50 times a second for all its SIMs together (one endpoint);
- **latency**: a message waits at most :data:`MAX_POLL` (20 ms) before pjsip reads it, and
  right after we send a request (:meth:`PjsipLibrary.kick`) polling restarts at 1 ms. For a
  cross-check engine that is plenty; (b) would answer within the select() wake-up.

The OS threads pjsip still starts (``media``, ``ev_thread``: the pjmedia clock and event
manager) never call into Python.

The wheel is built with pjlib's assertions on: an invalid argument (an unknown transport or
account id) aborts the process like an unregistered thread does, so only ids pjsip handed
out are ever passed back. Python exceptions must never unwind through pjsip's C++ frames
(a SWIG director raising aborts too), so every callback body runs under
:meth:`PjsipLibrary.guard`, which logs the exception and keeps it in
:attr:`PjsipLibrary.errors` for tests. pjsua2 objects are deleted explicitly
(:func:`dispose`) rather than left to the garbage collector.

TLS transports use the OpenSSL bundled in the wheel, **OpenSSL 1.0.2k**: TLS 1.2 at best,
and none of the fixes since 2017. Use TLS through pjsip for interoperability checks only.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rcs_terminal.engine.pjsip import load_pjsua2
from rcs_terminal.engine.pjsip.log import LOG_LEVEL, LogRouter
from rcs_terminal.engine.transport import Address
from rcs_terminal.errors import NetworkError

__all__ = [
    "MAX_POLL",
    "MIN_POLL",
    "PjsipLibrary",
    "TransportHandle",
    "dispose",
    "pj_error_text",
    "wire_bytes",
]

log = logging.getLogger(__name__)

MIN_POLL = 0.001
"""Seconds between polls right after activity."""
MAX_POLL = 0.02
"""Seconds between polls when pjsip is idle."""
OPENSSL_NOTE = "pjsua2-python bundles OpenSSL 1.0.2k (TLS 1.2 at most)"

TransportKind = Literal["udp", "tcp", "tls"]


def pj_error_text(exc: BaseException) -> str:
    """The readable text of a ``pjsua2.Error`` (or of any exception)."""
    info = getattr(exc, "info", None)
    if callable(info):
        try:
            return str(info()).strip()
        except Exception:  # pragma: no cover - defensive: SWIG objects in odd states
            pass
    return str(exc) or type(exc).__name__


def wire_bytes(text: str) -> bytes:
    """The bytes of a string pjsua2 handed over from the wire.

    SWIG decodes C++ strings as UTF-8 with ``surrogateescape``, so encoding the same way
    restores the exact bytes; a string that did not come from bytes falls back to
    replacement characters.
    """
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def dispose(obj: Any) -> None:
    """Delete the C++ object behind a pjsua2 proxy now.

    A stray Python reference (a traceback frame, a cycle waiting for the collector) would
    otherwise keep it alive: an Endpoint past ``libDestroy`` makes the next one abort the
    process, and a Buddy past its Account's ``shutdown()`` is deleted twice. The proxy is
    disowned, so the collector does not delete it again; it must not be used afterwards.
    """
    if obj is not None and getattr(obj, "thisown", False):
        type(obj).__swig_destroy__(obj)


@dataclass(frozen=True, slots=True)
class TransportHandle:
    """A pjsip transport opened for one SIM.

    Attributes:
        id: pjsua's transport id (for ``AccountSipConfig.transportId``).
        kind: ``udp``, ``tcp`` or ``tls``.
        local: the local address it listens on.
    """

    id: int
    kind: TransportKind
    local: Address


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence file descriptor 1 while pjlib starts: before ``libInit`` installs our log
    writer, pjlib prints its start-up lines with printf, which would corrupt ``--json``."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # pragma: no cover - no stdout at all
        yield
        return
    try:
        with open(os.devnull, "wb") as sink:
            os.dup2(sink.fileno(), 1)
            try:
                yield
            finally:
                _flush_c_stdio()
                os.dup2(saved, 1)
    finally:
        os.close(saved)


def _flush_c_stdio() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)


class PjsipLibrary:
    """The pjsua2 Endpoint of this process (see the module docstring).

    Use :meth:`acquire` and :meth:`release`; do not construct it directly.
    """

    _instance: ClassVar[PjsipLibrary | None] = None

    def __init__(self, pj: Any, loop: asyncio.AbstractEventLoop, user_agent: str) -> None:
        self.pj = pj
        self.loop = loop
        self.router = LogRouter()
        self.errors: list[BaseException] = []
        self._users = 0
        self._delay = MIN_POLL
        self._handle: asyncio.TimerHandle | None = None
        self._threads: set[int] = {threading.get_ident()}
        self._writer = self.router.make_writer(pj, self.guard)
        self.endpoint: Any = None
        self._start(user_agent)
        atexit.register(self._at_exit)

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def acquire(cls, *, user_agent: str = "rcs-terminal") -> PjsipLibrary:
        """Return the process's library, creating it on first use; count one more user.

        Must be called from a running event loop: that loop drives pjsip.

        Args:
            user_agent: the User-Agent pjsip writes (one per process: the first SIM's).

        Raises:
            PjsipUnavailableError: the pjsua2 wheel cannot be loaded here.
            NetworkError: pjsip failed to start, or another live event loop drives it.
        """
        pj = load_pjsua2()
        loop = asyncio.get_running_loop()
        library = cls._instance
        if library is not None and library.loop is not loop:
            if not library.loop.is_closed():
                raise NetworkError("pjsip is already driven by another running event loop")
            library.loop = loop  # a finished loop left it behind (tests): adopt it
        if library is None:
            library = cls(pj, loop, user_agent)
            cls._instance = library
        library.ensure_thread()
        library._users += 1
        library.kick()
        return library

    @classmethod
    def current(cls) -> PjsipLibrary | None:
        """The live library, if one exists."""
        return cls._instance

    def release(self) -> None:
        """Count one user less; the last one destroys the endpoint."""
        self._users = max(0, self._users - 1)
        if self._users == 0:
            self.destroy()

    @property
    def users(self) -> int:
        """How many SIMs use the library."""
        return self._users

    def _start(self, user_agent: str) -> None:
        pj = self.pj
        with _quiet_stdout():  # pjlib prints with printf until libInit installs our writer
            try:
                pj.Endpoint.instance()
            except pj.Error:
                pass  # no endpoint yet: the normal case
            else:
                raise NetworkError("another pjsua2 Endpoint already exists in this process")
        endpoint = pj.Endpoint()
        try:
            with _quiet_stdout():
                endpoint.libCreate()
            config = pj.EpConfig()
            config.uaConfig.threadCnt = 0
            config.uaConfig.mainThreadOnly = False
            config.uaConfig.userAgent = user_agent
            config.logConfig.writer = self._writer
            config.logConfig.level = LOG_LEVEL
            config.logConfig.consoleLevel = LOG_LEVEL  # the writer gets what the console would
            config.logConfig.msgLogging = 1
            config.logConfig.decor = 0
            config.medConfig.threadCnt = 0
            config.medConfig.noVad = True
            endpoint.libInit(config)
            endpoint.audDevManager().setNullDev()
            endpoint.libStart()
        except pj.Error as exc:
            with contextlib.suppress(pj.Error):
                endpoint.libDestroy()
            raise NetworkError(f"pjsip did not start: {pj_error_text(exc)}") from exc
        self.endpoint = endpoint
        log.debug("pjsip %s started", endpoint.libVersion().full)

    def destroy(self) -> None:
        """Destroy the endpoint now, without waiting for answers still on their way; the
        next :meth:`acquire` starts a new one."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        endpoint, self.endpoint = self.endpoint, None
        if type(self)._instance is self:
            type(self)._instance = None
        atexit.unregister(self._at_exit)
        if endpoint is None:
            return
        self.ensure_thread()
        try:
            # Not waiting for incoming messages skips pjsua's 1 s busy-sleep, which would
            # block the event loop; the SIMs have awaited their un-REGISTERs already.
            endpoint.libDestroy(self.pj.PJSUA_DESTROY_NO_RX_MSG)
        except self.pj.Error as exc:  # pragma: no cover - pjsip refusing to stop
            log.warning("pjsip did not stop cleanly: %s", pj_error_text(exc))
        dispose(endpoint)

    def _at_exit(self) -> None:  # pragma: no cover - interpreter shutdown
        if self.endpoint is not None and threading.get_ident() in self._threads:
            self.destroy()

    # ------------------------------------------------------------------ threads and guards

    def ensure_thread(self) -> None:
        """Register the calling thread with pjlib before it calls pjsua2 (once per thread).

        pjlib aborts the process when an unregistered thread calls it.
        """
        ident = threading.get_ident()
        if ident in self._threads or self.endpoint is None:
            return
        if not self.endpoint.libIsThreadRegistered():
            self.endpoint.libRegisterThread(f"rcs-{ident}")
        self._threads.add(ident)

    def guard(self, body: Callable[[], None]) -> None:
        """Run a callback body so that no Python exception reaches pjsip's C++ frames."""
        try:
            body()
        except Exception as exc:  # the boundary with C++: log and keep going
            self.errors.append(exc)
            del self.errors[:-50]
            log.exception("error in a pjsip callback")

    def call(self, what: str, body: Callable[[], Any]) -> Any:
        """Call into pjsua2 from the loop thread, turning ``pjsua2.Error`` into
        :class:`NetworkError` (``what`` names the operation in the message)."""
        self.ensure_thread()
        try:
            return body()
        except self.pj.Error as exc:
            # Only the text travels on: the pjsua2 exception's traceback holds frames whose
            # ``self`` is a pjsua2 object, which must not outlive the library.
            problem = pj_error_text(exc)
        finally:
            self.kick()
        raise NetworkError(f"pjsip could not {what}: {problem}")

    # ------------------------------------------------------------------ polling

    def kick(self) -> None:
        """Poll soon: something was sent and an answer is expected."""
        self._delay = MIN_POLL
        if self.endpoint is None or self._users == 0:
            return
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self.loop.call_later(MIN_POLL, self._poll)

    def _poll(self) -> None:
        self._handle = None
        if self.endpoint is None or self._users == 0:
            return
        self.ensure_thread()
        try:
            handled = self.endpoint.libHandleEvents(0)
        except self.pj.Error as exc:  # pragma: no cover - pjsip's loop failing
            log.warning("pjsip event loop: %s", pj_error_text(exc))
            handled = 0
        self._delay = MIN_POLL if handled > 0 else min(self._delay * 2, MAX_POLL)
        if self.endpoint is not None and self._users > 0 and self._handle is None:
            self._handle = self.loop.call_later(self._delay, self._poll)

    # ------------------------------------------------------------------ transports

    def open_transport(
        self,
        kind: TransportKind,
        host: str = "127.0.0.1",
        *,
        verify_server: bool = True,
        ca_file: str | None = None,
    ) -> TransportHandle:
        """Open a transport on ``host`` (any free port) for one SIM.

        TLS uses the wheel's OpenSSL 1.0.2k, TLS 1.2.

        Raises:
            NetworkError: pjsip cannot open it.
        """
        pj = self.pj
        config = pj.TransportConfig()
        config.port = 0
        config.boundAddress = host
        kinds = {
            "udp": pj.PJSIP_TRANSPORT_UDP,
            "tcp": pj.PJSIP_TRANSPORT_TCP,
            "tls": pj.PJSIP_TRANSPORT_TLS,
        }
        if ":" in host:
            kinds = {
                "udp": pj.PJSIP_TRANSPORT_UDP6,
                "tcp": pj.PJSIP_TRANSPORT_TCP6,
                "tls": pj.PJSIP_TRANSPORT_TLS6,
            }
        if kind == "tls":
            log.info("pjsip TLS: %s", OPENSSL_NOTE)
            config.tlsConfig.method = pj.PJSIP_TLSV1_2_METHOD
            config.tlsConfig.verifyServer = verify_server
            if ca_file:
                config.tlsConfig.CaListFile = ca_file
        transport_id = self.call(
            f"open a {kind.upper()} transport",
            lambda: self.endpoint.transportCreate(kinds[kind], config),
        )
        info = self.endpoint.transportGetInfo(transport_id)
        local = Address.parse(str(info.localName))
        return TransportHandle(int(transport_id), kind, local)

    def close_transport(self, handle: TransportHandle) -> None:
        """Close a SIM's transport (after its account is shut down)."""
        if self.endpoint is None:
            return
        self.ensure_thread()
        try:
            self.endpoint.transportClose(handle.id)
        except self.pj.Error as exc:
            log.debug("closing pjsip transport %s: %s", handle.id, pj_error_text(exc))
