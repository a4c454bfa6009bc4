"""The lab assembly: the whole local 5G Message network, started and stopped as one.

A :class:`Lab` owns, on loopback and on ports the system chooses:

- one aiohttp application served twice, over plain HTTP and over HTTPS (a throw-away
  certificate from :mod:`.certs` for ``127.0.0.1`` and the lab names): the RCC.14 config
  server (:mod:`.config_server`; step 1 on the HTTP port, step 2 on the HTTPS port), the SMS
  centre (:mod:`.smsc`), ``GET /lab/info`` (the :class:`~rcs_terminal.engine.labinfo.LabInfo`
  as JSON) and the fault switches (``/lab/faults``);
- the SIP registrar (:mod:`.registrar`, when that module is present), whose TCP address is
  the P-CSCF in every configuration handed out;
- one :class:`~rcs_terminal.engine.trace.TraceRecorder` with every HTTP exchange of the lab's
  servers (SMS-centre long polls left out) and the OTP SMS it sends, secrets masked.

Other parts of the lab (chatbot platform, file-transfer server) add their routes with
:meth:`Lab.add_routes` before :meth:`Lab.start`.
"""

from __future__ import annotations

import importlib
import ipaddress
import shutil
import socket
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from aiohttp import web

from rcs_terminal.engine.labinfo import LabInfo
from rcs_terminal.engine.trace import TraceRecorder
from rcs_terminal.errors import NetworkError
from rcs_terminal.lab.certs import make_lab_certificates
from rcs_terminal.lab.chatbot_platform import ChatbotPlatform
from rcs_terminal.lab.config_documents import LAB_NAMES, LabEndpoints
from rcs_terminal.lab.config_server import ConfigServer
from rcs_terminal.lab.ft_server import FtServer, lab_credentials
from rcs_terminal.lab.smsc import Smsc
from rcs_terminal.lab.subscribers import SubscriberDirectory, default_directory

_UNTRACED = ("/sms/inbox", "/lab/info")
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Lab:
    """The bundled network on loopback.

    Args:
        directory: the subscribers (default: every built-in profile that uses the lab).
        host: the loopback address to listen on.
        trace: the lab trace (a new one by default).
        config_options: keyword arguments for :class:`ConfigServer` (``validity``...).

    Raises:
        NetworkError: ``host`` is not a loopback address (every packet stays local).
    """

    def __init__(
        self,
        *,
        directory: SubscriberDirectory | None = None,
        host: str = "127.0.0.1",
        trace: TraceRecorder | None = None,
        **config_options: Any,
    ) -> None:
        if not _is_loopback(host):
            raise NetworkError(
                f"the lab listens on loopback only, not on {host}",
                hint="Use 127.0.0.1 (the default) or ::1.",
            )
        self.directory = directory if directory is not None else default_directory()
        self.host = host
        self.trace = trace if trace is not None else TraceRecorder()
        self.smsc = Smsc()
        self.config_server = ConfigServer(
            self.directory, self.smsc, trace=self.trace, **config_options
        )
        self.ft_server = FtServer(lab_credentials(self.directory, self.config_server))
        """The file-transfer content server (``ftHTTPCSURI``, ``/ft``)."""
        self.chatbots = ChatbotPlatform(self.directory, trace=self.trace)
        """The chatbot platform: the bots, bot info, directory, MaaP API."""
        self.registrar: Any = None
        """The SIP registrar, or None when ``rcs_terminal.lab.registrar`` is unavailable."""
        self.registrar_problem: str | None = None
        """Why the lab runs without a registrar, if it does."""
        self._routes: list[web.RouteDef] = []
        self._runner: web.AppRunner | None = None
        self._tls_dir: Path | None = None
        self._info: LabInfo | None = None

    @property
    def info(self) -> LabInfo:
        """The running lab's addresses.

        Raises:
            NetworkError: the lab is not started.
        """
        if self._info is None:
            raise NetworkError("the lab is not running")
        return self._info

    @property
    def domains(self) -> tuple[str, ...]:
        """The home domains of the lab's subscribers, sorted."""
        return tuple(sorted({sub.home_domain for sub in self.directory}))

    def add_routes(self, routes: Iterable[web.RouteDef]) -> None:
        """Serve more routes on the lab's HTTP(S) servers (call before :meth:`start`)."""
        if self._runner is not None:
            raise RuntimeError("add routes before the lab starts")
        self._routes.extend(routes)

    async def start(self) -> LabInfo:
        """Start every server and return where they listen."""
        if self._info is not None:
            return self._info
        try:
            return await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> LabInfo:
        sip_udp = sip_tcp = None
        registrar_class = self._registrar_class()
        if registrar_class is not None:
            self.registrar = registrar_class(self.directory, trace=self.trace, domains=self.domains)
            udp, tcp = await self.registrar.start(self.host, 0)
            sip_udp, sip_tcp = str(udp), str(tcp)
        names = dict.fromkeys(LAB_NAMES, self.host)
        self._tls_dir = Path(tempfile.mkdtemp(prefix="rcs-lab-"))
        certs = make_lab_certificates(list(names), self._tls_dir)
        app = web.Application(middlewares=[self._trace_middleware])
        app.add_routes(self.config_server.routes())
        app.add_routes(self.smsc.routes())
        app.add_routes(self.ft_server.routes())
        app.add_routes(self.chatbots.routes())
        app.add_routes([web.get("/lab/info", self._info_handler)])
        app.add_routes(self._routes)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        http_port = await self._listen(None)
        https_port = await self._listen(certs.server_context())
        literal = f"[{self.host}]" if ":" in self.host else self.host
        http_url = f"http://{literal}:{http_port}"
        pcscf = None
        if sip_tcp is not None:
            tcp_host, _, tcp_port = sip_tcp.rpartition(":")
            pcscf = (tcp_host.strip("[]"), int(tcp_port))
        self.config_server.endpoints = LabEndpoints(http_port=http_port, pcscf=pcscf)
        self.ft_server.public_url = self.config_server.endpoints.ft_url
        self._info = LabInfo(
            http_url=http_url,
            https_url=f"https://{literal}:{https_port}",
            ca_file=str(certs.ca_file),
            smsc_url=http_url,
            sip_udp=sip_udp,
            sip_tcp=sip_tcp,
            names=names,
            domains=self.domains,
        )
        await self.chatbots.start(self._info, ft_server=self.ft_server)
        return self._info

    async def stop(self) -> None:
        """Stop every server and delete the lab's certificates."""
        self._info = None
        await self.chatbots.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.registrar is not None:
            await self.registrar.stop()
            self.registrar = None
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
            self._tls_dir = None

    async def __aenter__(self) -> Lab:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ internals

    def _registrar_class(self) -> Any:
        try:
            registrar = importlib.import_module("rcs_terminal.lab.registrar")
        except Exception as exc:  # absent, or not importable: the lab runs without SIP
            self.registrar_problem = f"no SIP registrar: {exc}"
            return None
        found = getattr(registrar, "Registrar", None)
        if found is None:
            self.registrar_problem = "no SIP registrar: rcs_terminal.lab.registrar has none"
        return found

    async def _listen(self, ssl_context: Any) -> int:
        assert self._runner is not None
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, 0))
            sock.listen(128)
            sock.setblocking(False)
            port = int(sock.getsockname()[1])
            site = web.SockSite(self._runner, sock, ssl_context=ssl_context)
            await site.start()
        except BaseException:
            sock.close()
            raise
        return port

    async def _info_handler(self, request: web.Request) -> web.Response:
        return web.json_response(self.info.to_json())

    @web.middleware
    async def _trace_middleware(
        self, request: web.Request, handler: _Handler
    ) -> web.StreamResponse:
        if request.path in _UNTRACED:
            return await handler(request)
        peer = request.remote or ""
        scheme = "https" if request.secure else "http"
        lines = [f"{request.method} {request.raw_path} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in request.headers.items()]
        body = await request.read() if request.can_read_body else b""
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        self.trace.record(
            "in", "HTTP", raw, transport=scheme, local=request.host, remote=peer, owner="lab"
        )
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            self._record_response(exc, scheme, request.host, peer)
            raise
        self._record_response(response, scheme, request.host, peer)
        return response

    def _record_response(
        self, response: web.StreamResponse, scheme: str, local: str, peer: str
    ) -> None:
        status_line = f"HTTP/1.1 {response.status} {response.reason}"
        head = [status_line] + [f"{name}: {value}" for name, value in response.headers.items()]
        payload = response.body if isinstance(response, web.Response) else b""
        data = payload if isinstance(payload, bytes) else b""
        raw = ("\r\n".join(head) + "\r\n\r\n").encode() + data
        self.trace.record(
            "out", "HTTP", raw, transport=scheme, local=local, remote=peer, owner="lab"
        )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
