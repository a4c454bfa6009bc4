"""The listener of a SIM's passive MSRP sessions (RFC 4975 §5.4, RFC 6135).

When the SDP negotiation makes us *passive*, our ``a=path`` names the address of the SIM's
:class:`MsrpListener` (an ephemeral port on the SIP flow's local address, 127.0.0.1 in the
lab and with Kamailio) and the peer connects to it. One listener serves every session of
the SIM: it reads the first request of a new connection and hands the socket to the
:class:`~rcs_terminal.engine.msrp_connection.MsrpConnection` whose session URI is that
request's To-Path (the session-id tells sessions apart). A connection nobody expects is
closed. Because the peer may connect before its 2xx to our INVITE has reached us, a session
can be *reserved* first: a connection for it is held until the session exists.
"""

from __future__ import annotations

import asyncio
import logging
import ssl

from rcs_terminal.engine.msrp_connection import MsrpConnection, StreamProtocol
from rcs_terminal.errors import MsrpParseError, NetworkError
from rcs_terminal.protocol import limits
from rcs_terminal.protocol.msrp import MsrpRequest, MsrpUri, StreamFramer

__all__ = ["MsrpListener"]

log = logging.getLogger(__name__)


class _Unclaimed:
    """A connection accepted by a listener, before its first request names its session."""

    def __init__(self, listener: MsrpListener) -> None:
        self.listener = listener
        self.transport: asyncio.Transport | None = None
        self.protocol: StreamProtocol | None = None
        self.buffer = bytearray()
        self.framer = StreamFramer()
        self.uri: MsrpUri | None = None
        self.done = False

    def attach(self, transport: asyncio.Transport, protocol: StreamProtocol) -> None:
        self.transport, self.protocol = transport, protocol
        self.listener._unclaimed.add(self)

    def data(self, data: bytes) -> None:
        if self.done or self.transport is None:
            return
        self.buffer += data
        if self.uri is not None:  # parked: its session is not ready yet
            return
        for frame in self.framer.receive(data):
            message = frame.message
            if isinstance(message, MsrpRequest):
                try:
                    self.uri = message.to_path[-1]
                except MsrpParseError:
                    self.uri = None
            self.listener._claim(self)
            return
        if len(self.buffer) > limits.MAX_MSRP_MESSAGE:
            self.listener._claim(self)

    def hand_over(self, connection: MsrpConnection | None) -> None:
        """Give the socket to ``connection``, or close it when None."""
        self.done = True
        self.listener._unclaimed.discard(self)
        assert self.transport is not None and self.protocol is not None
        if connection is None or connection._transport is not None:
            log.info("closing an MSRP connection no session expects")
            self.transport.close()
            return
        self.protocol.owner = connection
        connection.attach(self.transport)
        connection.data(bytes(self.buffer))

    def lost(self, exc: Exception | None) -> None:
        self.done = True
        self.listener._unclaimed.discard(self)
        if self.uri is not None and self.listener._parked.get(self.uri) is self:
            del self.listener._parked[self.uri]

    def pause(self, paused: bool) -> None:
        pass


class MsrpListener:
    """Listens for the MSRP connections of one SIM's passive sessions.

    Args:
        host: the address to listen on (the one written in SDP).
        tls: a server TLS context, for ``msrps`` sessions; plain TCP without one.
    """

    def __init__(self, host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.tls = tls
        self.port: int | None = None
        self._server: asyncio.AbstractServer | None = None
        self._expected: dict[MsrpUri, MsrpConnection | None] = {}
        self._parked: dict[MsrpUri, _Unclaimed] = {}
        self._unclaimed: set[_Unclaimed] = set()
        self._starting: asyncio.Lock | None = None

    @property
    def scheme(self) -> str:
        """``msrps`` when listening with TLS, else ``msrp``."""
        return "msrps" if self.tls is not None else "msrp"

    async def start(self) -> None:
        """Bind an ephemeral port (once; later calls return at once).

        Raises:
            NetworkError: the port cannot be bound.
        """
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._server is not None:
                return
            loop = asyncio.get_running_loop()
            try:
                self._server = await loop.create_server(
                    lambda: StreamProtocol(_Unclaimed(self)), self.host, 0, ssl=self.tls
                )
            except OSError as exc:
                raise NetworkError(f"cannot listen for MSRP on {self.host}: {exc}") from exc
            self.port = int(self._server.sockets[0].getsockname()[1])

    def uri(self, session_id: str) -> MsrpUri:
        """Our URI for a new session on this listener.

        Raises:
            NetworkError: the listener is not started.
        """
        if self.port is None:
            raise NetworkError("the MSRP listener is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return MsrpUri(host=host, port=self.port, session_id=session_id, scheme=self.scheme)

    def reserve(self, uri: MsrpUri) -> None:
        """Hold a connection that arrives for ``uri`` until :meth:`expect` names its
        connection (our INVITE's answer may come after the peer already connected)."""
        self._expected.setdefault(uri, None)

    def release(self, uri: MsrpUri) -> None:
        """Drop a reservation that was not followed by :meth:`expect` (and any connection
        held for it)."""
        if uri in self._expected and self._expected[uri] is None:
            del self._expected[uri]
            parked = self._parked.pop(uri, None)
            if parked is not None:
                parked.hand_over(None)

    def expect(self, connection: MsrpConnection) -> None:
        """Hand the next connection addressed to ``connection``'s session to it."""
        uri = connection.session.local_uri
        parked = self._parked.pop(uri, None)
        if parked is not None:
            self._expected.pop(uri, None)
            parked.hand_over(connection)
        else:
            self._expected[uri] = connection

    def forget(self, connection: MsrpConnection) -> None:
        """Stop expecting a connection for this session."""
        if self._expected.get(connection.session.local_uri) is connection:
            del self._expected[connection.session.local_uri]

    def _claim(self, pending: _Unclaimed) -> None:
        uri = pending.uri
        if uri is None or uri not in self._expected:
            pending.hand_over(None)
            return
        connection = self._expected[uri]
        if connection is None:
            if uri in self._parked:
                pending.hand_over(None)  # one connection per session
            else:
                self._parked[uri] = pending
            return
        del self._expected[uri]
        pending.hand_over(connection)

    @property
    def expected(self) -> int:
        """How many sessions wait for their connection (reservations included)."""
        return len(self._expected)

    async def close(self) -> None:
        """Stop listening and drop connections nobody claimed."""
        for pending in list(self._unclaimed):
            if pending.transport is not None:
                pending.transport.close()
        self._unclaimed.clear()
        self._parked.clear()
        self._expected.clear()
        server, self._server = self._server, None
        if server is not None:
            server.close()  # sessions close their own connections
        self.port = None
