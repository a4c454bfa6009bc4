#!/usr/bin/env python3
"""Exchange pager-mode messages between pairs of emulated handsets and say what it cost.

``--pairs P`` pairs of handsets (2P SIMs, full engine stack each, one process, one asyncio
loop) register with

- ``kamailio`` (default): the loopback Kamailio of ``scripts/kamailio.sh``, started with
  ``KAM_ARGS="-A WITH_AUTH -m 1024"`` (MESSAGE load needs the shared memory, sip_peers.md
  §5) or reused with ``--kamailio 127.0.0.1:PORT``; it challenges every MESSAGE from its
  users with 407 and relays it to the registered contact;
- ``lab``: the bundled lab's registrar in this process (IMS-like: only REGISTER is
  challenged).

Then the two handsets of each pair send ``--count`` text messages in all to each other
(CPM standalone pager mode: SIP MESSAGE with CPIM, formats.md §9), ``--window`` in flight
per handset; each receiver stores the message and answers with a ``delivered`` IMDN, which
travels back through the proxy as a MESSAGE of its own. Printed: messages per second,
latency from ``send_text`` to the ``delivered`` state (p50/p90/p99/max), process CPU
seconds, Kamailio's CPU, failures, and the SIPp command lines of a plain-MESSAGE baseline
through the same Kamailio (scenario files in ``scripts/sipp/``); ``--run-sipp`` runs that
baseline too and prints its rate. Numbers only; nothing judges them.

Usage::

    .venv/bin/python scripts/bench_messaging.py [--pairs 10] [--count 1000]
        [--target kamailio|lab] [--transport udp|tcp] [--window 1] [--run-sipp]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import _bench_common as bench

from rcs_terminal.domain.store import MessageStore
from rcs_terminal.engine.handset import Handset

SIPP_UAC = ("sippuac", "sippuacpw")
SIPP_UAS = ("sippuas", "sippuaspw")
TEXT = "Load test message {n:06d}: 5G消息 pager mode, CPIM with a delivered IMDN back."
_SUCCESS_RE = re.compile(r"^\s*Successful call\s*\|[^|]*\|\s*(\d+)", re.MULTILINE)
_FAILED_RE = re.compile(r"^\s*Failed call\s*\|[^|]*\|\s*(\d+)", re.MULTILINE)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=10, help="pairs of handsets (10)")
    parser.add_argument("--count", type=int, default=1000, help="messages in all (1000)")
    parser.add_argument("--target", choices=("kamailio", "lab"), default="kamailio")
    parser.add_argument("--window", type=int, default=1, help="messages in flight per handset")
    parser.add_argument(
        "--wait", type=float, default=30.0, help="seconds to wait for each delivered IMDN"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="give up on the send phase after (600 s)"
    )
    parser.add_argument("--run-sipp", action="store_true", help="also run the SIPp baseline")
    parser.add_argument(
        "--sipp-rate", type=float, help="SIPp calls/s (default: the emulated MESSAGE rate)"
    )
    bench.add_network_options(parser, kam_args="-A WITH_AUTH -m 1024")
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.count < 1 or args.window < 1:
        parser.error("--pairs, --count and --window must be positive")
    if args.kamailio and args.target != "kamailio":
        parser.error("--kamailio goes with --target kamailio")
    if args.run_sipp and args.target != "kamailio":
        parser.error("--run-sipp needs --target kamailio")
    return args


@dataclass
class Tally:
    """What the send phase saw: one latency per delivered message, one reason per failure."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def run(args: argparse.Namespace, tmp: Path) -> int:
    async with bench.network(args, tmp, 2 * args.pairs, [SIPP_UAC, SIPP_UAS]) as net:
        # One store per handset, as on a phone: a shared one would let a handset that has
        # just registered pick up another's queued message as its own to resend.
        stores = [
            MessageStore.open(tmp / f"messages-{index}.sqlite3", durable=False)
            for index in range(len(net.specs))
        ]
        try:
            code, rate = await exchange(args, net, stores)
        finally:
            for store in stores:
                store.close()
        if net.kamailio is not None:
            sipp_baseline(args, net.kamailio, tmp, args.sipp_rate or rate)
        return code


async def exchange(
    args: argparse.Namespace, net: bench.Network, stores: list[MessageStore]
) -> tuple[int, float]:
    """Register the handsets, run the send phase, print its numbers.

    Returns:
        The exit code, and the SIP MESSAGE rate the handsets reached (messages + IMDNs).
    """
    kamailio = net.kamailio
    trace = bench.make_trace(args.trace_keep, enabled=not args.no_trace)
    handsets = [
        bench.new_handset(net.profile, spec, store=store, trace=trace)
        for spec, store in zip(net.specs, stores, strict=True)
    ]
    bench.line("target", f"{net.where}, every MESSAGE challenged" if kamailio else net.where)
    bench.line("handsets", f"{len(handsets)} ({args.pairs} pairs), window {args.window}")
    try:
        reasons = await bench.bounded(handsets, bench.start_handset, 20)
        if any(reasons):
            bench.line("registration failures", bench.failure_summary(reasons))
            return 1, 1.0
        kam_before = kamailio.cpu_seconds() if kamailio else None
        drops = bench.udp_receive_drops()
        start = bench.Snapshot.take()
        tally = await send_phase(args, handsets, [spec.uri for spec in net.specs])
        done = bench.Snapshot.take()
        kam_done = kamailio.cpu_seconds() if kamailio else None
        elapsed = done.wall - start.wall
        report(args, tally, elapsed, done.cpu - start.cpu)
        if kam_before is not None and kam_done is not None:
            bench.line("kamailio cpu seconds", f"{kam_done - kam_before:.2f}")
        bench.line(
            "udp receive-buffer drops", bench.drops_between(drops, bench.udp_receive_drops())
        )
        delivered = len(tally.latencies)
        rate = max(1.0, 2 * delivered / elapsed) if elapsed > 0 else 1.0
        return (0 if delivered == args.count else 1), rate
    finally:
        await bench.bounded(handsets, bench.stop_handset, 20)


async def send_phase(args: argparse.Namespace, handsets: list[Handset], uris: list[str]) -> Tally:
    """Each handset sends its share of ``--count`` to its pair partner (handsets 2k and
    2k+1 are partners), ``--window`` at a time, each until its delivered IMDN."""
    tally = Tally()
    numbers = iter(range(1, args.count + 1))
    share, extra = divmod(args.count, len(handsets))
    loops = []
    for index, handset in enumerate(handsets):
        quota = iter(range(share + (index < extra)))
        for _ in range(args.window):
            loops.append(send_loop(handset, uris[index ^ 1], quota, numbers, tally, args.wait))
    try:
        await asyncio.wait_for(asyncio.gather(*loops), args.timeout)
    except TimeoutError:
        tally.failures.append("benchmark timeout")
    return tally


async def send_loop(
    handset: Handset,
    peer: str,
    quota: Iterator[int],
    numbers: Iterator[int],
    tally: Tally,
    wait: float,
) -> None:
    """Send from ``handset`` to ``peer`` while the quota (shared by this handset's
    window) lasts, one message at a time, each until its delivered IMDN or a failure."""
    messaging = handset.sims[1].messaging
    assert messaging is not None
    for _ in quota:
        began = time.perf_counter()
        try:
            result = await messaging.send_text(peer, TEXT.format(n=next(numbers)))
            if result.state in ("failed", "sms_fallback"):
                tally.failures.append(f"{result.state} {result.status} {result.reason}")
                continue
            stored = await messaging.wait_for_state(result.message_id, {"delivered"}, wait)
        except TimeoutError:
            tally.failures.append(f"no delivered IMDN within {wait:g} s")
            continue
        except Exception as exc:  # a benchmark counts failures instead of stopping
            tally.failures.append(f"{type(exc).__name__}: {exc}")
            continue
        if stored.state.value in ("delivered", "displayed"):
            tally.latencies.append(time.perf_counter() - began)
        else:
            tally.failures.append(f"ended {stored.state.value}")


def report(args: argparse.Namespace, tally: Tally, elapsed: float, cpu: float) -> None:
    """Print the send phase's numbers."""
    delivered = len(tally.latencies)
    millis = sorted(1000 * value for value in tally.latencies)
    p50, p90, p99 = (bench.percentile(millis, pct) for pct in (50, 90, 99))
    bench.line("messages", f"{args.count} to send, {delivered} delivered")
    bench.line("failures", bench.failure_summary(tally.failures))
    bench.line("send phase wall seconds", f"{elapsed:.2f}")
    bench.line("messages per second", bench.fmt_rate(delivered, elapsed))
    bench.line(
        "sip MESSAGE requests per second",
        f"{bench.fmt_rate(2 * delivered, elapsed)} (message + delivered IMDN)",
    )
    bench.line(
        "latency ms send->delivered",
        f"p50 {p50:.1f} / p90 {p90:.1f} / p99 {p99:.1f} / max {millis[-1] if millis else 0:.1f}",
    )
    bench.line("cpu seconds (send phase)", f"{cpu:.2f}")
    if delivered:
        bench.line("cpu ms per message", f"{1000 * cpu / delivered:.2f} (both ends + IMDN)")


# ---------------------------------------------------------------------------- SIPp


def sipp_commands(
    kamailio: bench.Kamailio, ports: tuple[int, int, int], rate: float, count: int, wait: float
) -> list[list[str]]:
    """The three SIPp runs of the baseline: the receiver, its registration, the sender."""
    uas_port, reg_port, uac_port = ports
    sipp = shutil.which("sipp") or "sipp"
    scenarios = bench.SIPP_DIR
    uas = [
        sipp, "-sf", str(scenarios / "message_uas.xml"), "-i", "127.0.0.1",
        "-p", str(uas_port), "-m", str(count), "-nostdin", "-timeout", f"{wait:.0f}s",
    ]  # fmt: skip
    register = [
        sipp, "-sf", str(scenarios / "register_uas.xml"), "-s", SIPP_UAS[0],
        "-au", SIPP_UAS[0], "-ap", SIPP_UAS[1],
        "-key", "contact", f"sip:{SIPP_UAS[0]}@127.0.0.1:{uas_port}",
        "-i", "127.0.0.1", "-p", str(reg_port), "-m", "1", "-nostdin", "-timeout", "10s",
        kamailio.address,
    ]  # fmt: skip
    uac = [
        sipp, "-sf", str(scenarios / "message_uac.xml"), "-s", SIPP_UAS[0],
        "-key", "caller", SIPP_UAC[0], "-au", SIPP_UAC[0], "-ap", SIPP_UAC[1],
        "-i", "127.0.0.1", "-p", str(uac_port), "-r", f"{rate:.0f}", "-m", str(count),
        "-nostdin", "-timeout", f"{wait:.0f}s", kamailio.address,
    ]  # fmt: skip
    return [uas, register, uac]


def sipp_baseline(
    args: argparse.Namespace, kamailio: bench.Kamailio, tmp: Path, rate: float
) -> None:
    """Print (and with ``--run-sipp`` run) the plain-MESSAGE SIPp baseline."""
    count = 2 * args.count
    wait = min(600.0, max(30.0, 3 * count / rate + 10))
    ports = (bench.free_udp_port(), bench.free_udp_port(), bench.free_udp_port())
    uas, register, uac = sipp_commands(kamailio, ports, rate, count, wait)
    print("sipp baseline (same MESSAGE count and rate, one 407 round each, no IMDN):")
    for command in (uas, register, uac):
        print("  " + shlex.join(command))
    if not args.run_sipp:
        return
    if shutil.which("sipp") is None:
        bench.line("sipp", "not installed (Debian package sip-tester)")
        return
    with open(tmp / "sipp-uas.out", "w") as uas_out:
        receiver = subprocess.Popen(uas, stdout=uas_out, stderr=subprocess.STDOUT)
        try:
            time.sleep(0.3)  # let the receiver bind before it is registered
            done = subprocess.run(register, capture_output=True, text=True, timeout=30)
            if done.returncode != 0:
                bench.line("sipp", f"the receiver did not register (rc {done.returncode})")
                return
            cpu_before = kamailio.cpu_seconds()
            began = time.perf_counter()
            sent = subprocess.run(uac, capture_output=True, text=True, timeout=wait + 30)
            elapsed = time.perf_counter() - began
            cpu_after = kamailio.cpu_seconds()
        finally:
            receiver.terminate()
            try:
                receiver.wait(timeout=10)
            except subprocess.TimeoutExpired:
                receiver.kill()
                receiver.wait()
    ok = _last(_SUCCESS_RE, sent.stdout)
    failed = _last(_FAILED_RE, sent.stdout)
    bench.line("sipp calls", f"{ok} ok, {failed} failed (rc {sent.returncode})")
    bench.line("sipp MESSAGE per second", bench.fmt_rate(ok, elapsed) + f" (offered {rate:.0f})")
    if cpu_before is not None and cpu_after is not None:
        bench.line("kamailio cpu seconds (sipp)", f"{cpu_after - cpu_before:.2f}")


def _last(pattern: re.Pattern[str], text: str) -> int:
    found = pattern.findall(text)
    return int(found[-1]) if found else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench.raise_fd_limit()
    home = bench.ScratchHome(args.home)
    try:
        with tempfile.TemporaryDirectory(prefix="rcs-bench-msg-") as tmp:
            return asyncio.run(run(args, Path(tmp)))
    except RuntimeError as exc:
        print(f"bench_messaging: {exc}", file=sys.stderr)
        return 2
    finally:
        home.close()


if __name__ == "__main__":
    sys.exit(main())
