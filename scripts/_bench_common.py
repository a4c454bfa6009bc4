"""Shared pieces of the load benchmarks ``bench_register.py`` and ``bench_messaging.py``.

The benchmarks run many emulated handsets in one process and one asyncio loop, against the
lab's in-process registrar or a real Kamailio on loopback (sip_peers.md §2, §5). This module
owns what both need:

- the command-line options they share and the network they run against
  (:func:`network`): the lab with N subscribers made for the run, or Kamailio started through
  ``scripts/kamailio.sh`` (or reused) with N digest users added in one ``kamcmd`` batch;
- one :class:`~rcs_terminal.engine.ims_params.ImsParams` per emulated SIM, derived from a
  template loaded once from a small static-``ims:`` profile;
- a throw-away ``RCS_TERMINAL_HOME`` (USIM sequence numbers, the message store), so a run
  never touches the user's own state;
- measuring: process CPU (``time.process_time``), resident memory (``VmRSS``), Kamailio's
  CPU (its processes' ``utime + stime``), UDP receive-buffer drops, percentiles.

Results are printed as ``label: value`` lines; nothing here judges them (DESIGN.md:
benchmarks print numbers, tests never assert times).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import os
import resource
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from rcs_terminal.domain import sim as ids
from rcs_terminal.domain.profile import Profile, load_profile
from rcs_terminal.engine.handset import Handset
from rcs_terminal.engine.ims_params import (
    AkaCredentials,
    DigestCredentials,
    ImsParams,
    PcscfTarget,
)
from rcs_terminal.engine.trace import TraceRecord, TraceRecorder
from rcs_terminal.engine.transport import Address
from rcs_terminal.lab.lab import Lab
from rcs_terminal.lab.subscribers import LabSubscriber, SubscriberDirectory

SCRIPTS = Path(__file__).resolve().parent
KAMAILIO_SH = SCRIPTS / "kamailio.sh"
SIPP_DIR = SCRIPTS / "sipp"
REALM = "rcs.test"
"""The Kamailio fixture's domain (scripts/kamailio/kamailio.cfg)."""
MCC, MNC = "460", "00"
"""The operator of the emulated SIMs (China Mobile)."""

Transport = Literal["udp", "tcp"]
T = TypeVar("T")
R = TypeVar("R")

_PROFILE_YAML = """\
schema_version: 1
description: "load benchmark template (one SIM, static ims: settings)"
device:
  vendor: ZTE
  model: S30
  sw_version: MyOS11.0.5
  os: {{name: Android, version: "11"}}
  client: {{vendor: ZTE, version: RCSAndrd-2.4}}
sims:
  - slot: 1
    imei: "{imei}"
    operator: {{name: China Mobile, mcc: "{mcc}", mnc: "{mnc}"}}
    imsi: "460009999900000"
    msisdn: "+8613900000000"
    auth: {{scheme: digest}}
    ims:
      pcscf: ["127.0.0.1:5060"]
      transport: {transport}
      home_domain: {realm}
      impi: template
      impu: ["sip:template@{realm}"]
      auth: {{scheme: digest, username: template, password: templatepw}}
"""


# ---------------------------------------------------------------------------- output, measuring


def line(label: str, value: object) -> None:
    """Print one result as ``label: value`` (values in one column)."""
    print(f"{label + ':':<34} {value}", flush=True)


def fmt_rate(count: int, seconds: float) -> str:
    """``count`` per second over ``seconds`` (``n/a`` for an empty interval)."""
    return f"{count / seconds:,.1f}" if seconds > 0 else "n/a"


def rss_bytes() -> int:
    """The process's resident set size (``VmRSS``) in bytes; 0 where /proc is missing."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for text in Path("/proc/self/status").read_text().splitlines():
            if text.startswith("VmRSS:"):
                return int(text.split()[1]) * 1024
    return 0


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Wall clock (``perf_counter``), process CPU (``process_time``) and RSS at one moment."""

    wall: float
    cpu: float
    rss: int

    @classmethod
    def take(cls, *, collect: bool = False) -> Snapshot:
        """Measure now (``collect``: collect garbage first, before reading memory)."""
        if collect:
            gc.collect()
        return cls(time.perf_counter(), time.process_time(), rss_bytes())


def percentile(ordered: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile of sorted values (0.0 for none)."""
    if not ordered:
        return 0.0
    rank = -(-len(ordered) * pct // 100)
    return ordered[min(len(ordered), max(1, int(rank))) - 1]


def udp_receive_drops() -> int | None:
    """UDP datagrams the kernel dropped for a full receive buffer (``RcvbufErrors`` in
    ``/proc/net/snmp``, machine-wide), or None where unreadable."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        names, values = (
            text.split()
            for text in Path("/proc/net/snmp").read_text().splitlines()
            if text.startswith("Udp:")
        )
        return int(values[names.index("RcvbufErrors")])
    return None


def drops_between(before: int | None, after: int | None) -> str:
    """The drops between two :func:`udp_receive_drops` readings, explained."""
    if before is None or after is None:
        return "n/a"
    return f"{after - before} (machine-wide; each costs a retransmission, T1 = 0.5 s)"


def raise_fd_limit() -> None:
    """Raise the soft limit on open files to the hard one: every SIM holds a socket (two
    over TCP against the in-process lab)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = max(soft, 65536) if hard == resource.RLIM_INFINITY else hard
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that was free a moment ago (for SIPp)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ScratchHome:
    """A temporary ``RCS_TERMINAL_HOME`` for one run (or the folder given, kept)."""

    def __init__(self, given: str | None = None) -> None:
        self._given = given is not None
        self.path = Path(given) if given else Path(tempfile.mkdtemp(prefix="rcs-bench-"))
        self.path.mkdir(parents=True, exist_ok=True)
        self._previous = os.environ.get("RCS_TERMINAL_HOME")
        os.environ["RCS_TERMINAL_HOME"] = str(self.path)

    def close(self) -> None:
        """Restore the environment; delete the folder when it is ours."""
        if self._previous is None:
            os.environ.pop("RCS_TERMINAL_HOME", None)
        else:
            os.environ["RCS_TERMINAL_HOME"] = self._previous
        if not self._given:
            shutil.rmtree(self.path, ignore_errors=True)


# ---------------------------------------------------------------------------- emulated SIMs


def imei_for(index: int) -> str:
    """A valid (Luhn-checked) IMEI for emulated SIM number ``index``."""
    body = f"35{index:012d}"
    return body + ids.luhn_check_digit(body)


@dataclass(frozen=True, slots=True)
class SimSpec:
    """One emulated SIM: the URI others reach it by, and its registration parameters."""

    uri: str
    params: ImsParams


def load_template(tmp: Path, transport: Transport) -> tuple[Profile, ImsParams]:
    """The one-SIM profile every emulated SIM shares, and its static parameters."""
    path = tmp / "bench.yaml"
    path.write_text(
        _PROFILE_YAML.format(imei=imei_for(0), mcc=MCC, mnc=MNC, transport=transport, realm=REALM),
        encoding="utf-8",
    )
    profile = load_profile(str(path))
    return profile, ImsParams.from_static(profile, profile.sim(1))


def sim_spec(
    template: ImsParams,
    index: int,
    pcscf: PcscfTarget,
    sub: LabSubscriber,
) -> SimSpec:
    """SIM number ``index`` as ``sub`` describes it: the template with its own identity,
    credentials, ``+sip.instance`` and P-CSCF. A Kamailio user registers
    ``sip:<user>@rcs.test``; a lab SIM its ``sip:+86...@<home domain>`` and ``tel:`` URIs."""
    credentials: AkaCredentials | DigestCredentials
    if sub.auth_type == "AKA":
        assert sub.k is not None and sub.opc is not None
        credentials = AkaCredentials(k=sub.k, opc=sub.opc, amf=sub.amf, sqn=0)
    else:
        credentials = DigestCredentials(sub.impi, sub.password or "")
    params = dataclasses.replace(
        template,
        imsi=sub.imsi,
        home_domain=sub.home_domain,
        impi=sub.impi,
        impus=(f"sip:{sub.impi}@{REALM}",) if sub.home_domain == REALM else sub.impus,
        pcscfs=(pcscf,),
        auth=credentials,
        sip_instance=ids.sip_instance(imei_for(index)),
    )
    return SimSpec(params.impu, params)


def subscribers(count: int, auth: str, *, kamailio: bool = False) -> list[LabSubscriber]:
    """``count`` subscribers as the network knows them: lab SIMs (AKA keys or a digest
    password), or Kamailio users (``bench00001@rcs.test``, password ``bench00001pw``)."""
    home = REALM if kamailio else ids.home_network_domain(MCC, MNC)
    found = []
    for index in range(1, count + 1):
        imsi, user = f"46000{index:010d}", f"bench{index:05d}"
        sub = LabSubscriber(
            profile="bench",
            slot=1,
            imsi=imsi,
            msisdn=f"+86139{index:08d}",
            imei=imei_for(index),
            home_domain=home,
            impi=ids.default_impi(imsi, MCC, MNC),
            auth_type="AKA" if auth == "aka" and not kamailio else "Digest",
            display_name=f"bench SIM {index}",
        )
        if sub.auth_type == "AKA":
            sub.k = index.to_bytes(4, "big") * 4
            sub.opc = bytes(reversed(sub.k))
        else:
            sub.impi, sub.password = user, f"{user}pw"
        found.append(sub)
    return found


# ---------------------------------------------------------------------------- Kamailio


class Kamailio:
    """A Kamailio on loopback, started here through ``scripts/kamailio.sh`` or reused.

    Args:
        address: ``127.0.0.1:PORT`` of its UDP/TCP listener.
        run_dir: its folder (pid file, control socket); None when unknown, so users cannot
            be added and its CPU is not measured.
        owned: True when this process started it (and stops it).
    """

    def __init__(self, address: str, run_dir: Path | None, *, owned: bool) -> None:
        self.address = address
        self.run_dir = run_dir
        self.owned = owned

    @classmethod
    def start(cls, run_dir: Path, kam_args: str) -> Kamailio:
        """Start one on a free port with ``KAM_ARGS=kam_args``.

        Raises:
            RuntimeError: it is not installed or did not come up.
        """
        if shutil.which("kamailio") is None or shutil.which("kamcmd") is None:
            raise RuntimeError("kamailio/kamcmd are not installed (Debian package kamailio)")
        done = subprocess.run(
            [str(KAMAILIO_SH), "start", str(run_dir), "0", "benchprobe:benchprobepw"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "KAM_ARGS": kam_args},
        )
        if done.returncode != 0:
            raise RuntimeError(f"Kamailio did not start: {done.stderr.strip()}")
        return cls(f"127.0.0.1:{done.stdout.split()[-1]}", run_dir, owned=True)

    def add_users(self, users: Iterable[tuple[str, str]]) -> None:
        """Put ``(name, password)`` pairs in its password table, in one kamcmd run."""
        if self.run_dir is None:
            return
        script = "".join(f"htable.sets users {name} {password}\n" for name, password in users)
        done = subprocess.run(
            ["kamcmd", "-s", f"unix:{self.run_dir}/kamailio_ctl"],
            input=script,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"kamcmd failed: {done.stderr.strip()}")

    def cpu_seconds(self) -> float | None:
        """User + system CPU of its main process and children so far (None if unknown)."""
        if self.run_dir is None:
            return None
        try:
            main = (self.run_dir / "kamailio.pid").read_text().strip()
        except OSError:
            return None
        ticks = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
                if entry.name == main or fields[1] == main:
                    ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """Stop it, if this process started it."""
        if self.owned and self.run_dir is not None:
            subprocess.run(
                [str(KAMAILIO_SH), "stop", str(self.run_dir)], capture_output=True, timeout=30
            )


# ---------------------------------------------------------------------------- the network


def add_network_options(parser: argparse.ArgumentParser, *, kam_args: str) -> None:
    """The options both benchmarks take to choose and shape the network."""
    parser.add_argument("--transport", choices=("udp", "tcp"), default="udp")
    parser.add_argument(
        "--auth", choices=("aka", "digest"), default="aka", help="lab subscribers' scheme"
    )
    parser.add_argument("--kamailio", metavar="ADDR", help="reuse a running Kamailio")
    parser.add_argument(
        "--kamailio-dir", metavar="DIR", help="its kamailio.sh run folder (users, CPU)"
    )
    parser.add_argument(
        "--kam-args", default=kam_args, help=f"KAM_ARGS for a started Kamailio ({kam_args})"
    )
    parser.add_argument("--trace-keep", type=int, default=1000, help="trace records kept")
    parser.add_argument(
        "--no-trace", action="store_true", help="count messages instead of recording them"
    )
    parser.add_argument("--home", help="RCS_TERMINAL_HOME to use (default: a temporary one)")


@dataclass
class Network:
    """Where the handsets register: a description, their SIMs, Kamailio (if it is one)."""

    where: str
    profile: Profile
    specs: list[SimSpec]
    kamailio: Kamailio | None = None


@contextlib.asynccontextmanager
async def network(
    args: argparse.Namespace, tmp: Path, sims: int, extra_users: Sequence[tuple[str, str]] = ()
) -> AsyncIterator[Network]:
    """Start (or attach to) the target network with ``sims`` subscribers; stop it after.

    Raises:
        RuntimeError: Kamailio is missing or did not start, or the lab has no registrar.
    """
    profile, template = load_template(tmp, args.transport)
    lab: Lab | None = None
    kamailio: Kamailio | None = None
    try:
        if args.target == "lab":
            subs = subscribers(sims, args.auth)
            lab = Lab(
                directory=SubscriberDirectory(subs),
                trace=make_trace(args.trace_keep, enabled=not args.no_trace),
            )
            info = await lab.start()
            address = info.sip_udp if args.transport == "udp" else info.sip_tcp
            if lab.registrar is None or address is None:
                raise RuntimeError(f"the lab has no registrar: {lab.registrar_problem}")
            where = f"lab registrar in this process ({address}), {args.auth.upper()}"
        else:
            subs = subscribers(sims, "digest", kamailio=True)
            if args.kamailio:
                run_dir = Path(args.kamailio_dir) if args.kamailio_dir else None
                kamailio = Kamailio(args.kamailio, run_dir, owned=False)
            else:
                kamailio = Kamailio.start(tmp / "kamailio", args.kam_args)
            kamailio.add_users([*((s.impi, s.password or "") for s in subs), *extra_users])
            address = kamailio.address
            where = f"Kamailio {address}, digest"
        pcscf = PcscfTarget(Address.parse(address), args.transport)
        specs = [sim_spec(template, i, pcscf, sub) for i, sub in enumerate(subs, start=1)]
        yield Network(f"{where}, {args.transport.upper()}", profile, specs, kamailio)
    finally:
        if lab is not None:
            await lab.stop()
        if kamailio is not None:
            kamailio.stop()


# ---------------------------------------------------------------------------- handsets


def make_trace(keep: int, *, enabled: bool = True) -> TraceRecorder:
    """The engine's trace recorder keeping the last ``keep`` records, or (``enabled=False``)
    one that only counts messages, to show what recording and masking cost."""
    if enabled:
        return TraceRecorder(capacity=keep)

    class CountingTrace(TraceRecorder):
        """Counts messages; neither masks nor keeps them."""

        def record(self, direction: Any, protocol: Any, data: bytes, **where: Any) -> Any:
            self._seq += 1
            return TraceRecord(self._seq, 0.0, direction, protocol, "", "", "", b"")

    return CountingTrace(capacity=1)


def new_handset(profile: Profile, spec: SimSpec, *, store: Any, trace: TraceRecorder) -> Handset:
    """A handset with one emulated SIM (shared profile, store and trace) that tries to
    register once: a failure is counted, not retried after RegRetryBaseTime."""
    return Handset(profile, trace=trace, params={1: spec.params}, store=store, max_attempts=0)


async def bounded(items: Sequence[T], action: Callable[[T], Awaitable[R]], limit: int) -> list[R]:
    """Run ``action`` on every item, at most ``limit`` at once; results in order."""
    gate = asyncio.Semaphore(max(1, limit))

    async def one(item: T) -> R:
        async with gate:
            return await action(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


async def start_handset(handset: Handset) -> str | None:
    """Register a handset: None on success, else why it failed."""
    try:
        error = (await handset.start([1])).get(1)
    except Exception as exc:  # a benchmark counts failures instead of stopping
        return f"{type(exc).__name__}: {exc}"
    if error is None:
        return None
    status = getattr(error, "status", None)
    return f"{status} {error}" if status is not None else str(error)


async def stop_handset(handset: Handset) -> None:
    """De-register a handset and close its sockets (best effort)."""
    with contextlib.suppress(Exception):
        await handset.stop()


def is_registered(handset: Handset) -> bool:
    """True while the handset's SIM is registered."""
    stack = handset.sims.get(1)
    return stack is not None and stack.is_registered


def failure_summary(reasons: Iterable[str | None], limit: int = 5) -> str:
    """``0``, or the count and the commonest reasons."""
    counts: dict[str, int] = {}
    for reason in reasons:
        if reason is not None:
            counts[reason] = counts.get(reason, 0) + 1
    if not counts:
        return "0"
    common = sorted(counts.items(), key=lambda item: -item[1])[:limit]
    return f"{sum(counts.values())} (" + "; ".join(f"{n}x {r}" for r, n in common) + ")"
