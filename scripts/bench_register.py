#!/usr/bin/env python3
"""Register many emulated SIMs from one process and say what it cost.

N handsets (one SIM each, the full engine stack: SIP endpoint, registration with its
reg-event subscription, capability and messaging services) register from one asyncio loop,
at most ``--concurrency`` at a time, against

- ``lab`` (default): the bundled lab (:class:`~rcs_terminal.lab.lab.Lab`) in this very
  process, with N subscribers made for the run (IMS AKA by default, or ``--auth digest``);
  the lab's own work is in the process's CPU and memory figures too;
- ``kamailio``: the loopback Kamailio of ``scripts/kamailio.sh``, started for the run with
  ``KAM_ARGS="-A WITH_AUTH -m 512"`` and N digest users added in one kamcmd batch, or a
  running one given with ``--kamailio 127.0.0.1:PORT`` (``--kamailio-dir`` names its run
  folder, so users can be added and its CPU measured).

They stay registered for ``--hold`` seconds, then de-register. Printed: registrations per
second, process CPU seconds (``time.process_time``), resident memory per SIM (``VmRSS``
growth from before the handsets existed to after they registered, divided by N), failures
with their reasons, UDP receive-buffer drops, and the same for de-registration. Over UDP a
high ``--concurrency`` makes bursts that overflow the registrar's socket buffer; every drop
then costs a 0.5 s retransmission, which shows as wall time without CPU. Numbers only;
nothing judges them. Kamailio and SIPp's own numbers on this machine: sip_peers.md §5.

Usage::

    .venv/bin/python scripts/bench_register.py [--sims 1000] [--target lab|kamailio]
        [--transport udp|tcp] [--hold 0] [--concurrency 20] [--auth aka|digest]
        [--kamailio 127.0.0.1:PORT [--kamailio-dir DIR]] [--no-trace]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import _bench_common as bench

from rcs_terminal.domain.store import MessageStore


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=1000, help="SIMs to register (1000)")
    parser.add_argument("--target", choices=("lab", "kamailio"), default="lab")
    parser.add_argument("--hold", type=float, default=0.0, help="seconds to stay registered")
    parser.add_argument(
        "--concurrency", type=int, default=20, help="registrations in flight at once (20)"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="give up registering after (600 s)"
    )
    bench.add_network_options(parser, kam_args="-A WITH_AUTH -m 512")
    args = parser.parse_args(argv)
    if args.sims < 1 or args.concurrency < 1 or args.hold < 0:
        parser.error("--sims and --concurrency must be positive, --hold not negative")
    if args.kamailio and args.target != "kamailio":
        parser.error("--kamailio goes with --target kamailio")
    return args


async def run(args: argparse.Namespace, tmp: Path) -> int:
    async with bench.network(args, tmp, args.sims) as net:
        # One store for all (the store's load-test mode): nothing is sent, and a thousand
        # SQLite connections would measure SQLite rather than the handsets.
        store = MessageStore.open(tmp / "messages.sqlite3", durable=False)
        try:
            return await measure(args, net, store)
        finally:
            store.close()


async def measure(args: argparse.Namespace, net: bench.Network, store: MessageStore) -> int:
    """Register, hold, de-register; print the numbers. Returns the exit code."""
    kamailio, sims = net.kamailio, len(net.specs)
    trace = bench.make_trace(args.trace_keep, enabled=not args.no_trace)
    bench.line("target", net.where)
    bench.line("sims", f"{sims} (concurrency {args.concurrency})")
    before = bench.Snapshot.take(collect=True)
    handsets = [bench.new_handset(net.profile, s, store=store, trace=trace) for s in net.specs]
    try:
        kam_before = kamailio.cpu_seconds() if kamailio else None
        drops = bench.udp_receive_drops()
        start = bench.Snapshot.take()
        try:
            reasons = await asyncio.wait_for(
                bench.bounded(handsets, bench.start_handset, args.concurrency), args.timeout
            )
        except TimeoutError:
            reasons = [None if bench.is_registered(h) else "benchmark timeout" for h in handsets]
        done = bench.Snapshot.take()
        kam_done = kamailio.cpu_seconds() if kamailio else None
        registered = reasons.count(None)
        elapsed, cpu = done.wall - start.wall, done.cpu - start.cpu
        bench.line("registered", registered)
        bench.line("failures", bench.failure_summary(reasons))
        bench.line("registration wall seconds", f"{elapsed:.2f}")
        bench.line("registrations per second", bench.fmt_rate(registered, elapsed))
        bench.line("cpu seconds (registration)", f"{cpu:.2f}")
        if registered:
            bench.line("cpu ms per registration", f"{1000 * cpu / registered:.2f}")
        if kam_before is not None and kam_done is not None:
            bench.line("kamailio cpu seconds", f"{kam_done - kam_before:.2f}")
        bench.line(
            "udp receive-buffer drops", bench.drops_between(drops, bench.udp_receive_drops())
        )

        await asyncio.sleep(args.hold)
        held = bench.Snapshot.take(collect=True)
        growth = held.rss - before.rss
        lab_note = "" if kamailio else ", the lab's share included"
        bench.line(
            "rss per registered sim",
            f"{growth / sims / 1024:.1f} KiB (VmRSS +{growth / 2**20:.1f} MiB{lab_note})",
        )
        still = sum(map(bench.is_registered, handsets))
        bench.line("still registered after hold", f"{still} (hold {args.hold:g} s)")

        leave = bench.Snapshot.take()
        await bench.bounded(handsets, bench.stop_handset, args.concurrency)
        left = bench.Snapshot.take()
        bench.line("deregistration wall seconds", f"{left.wall - leave.wall:.2f}")
        bench.line("deregistrations per second", bench.fmt_rate(still, left.wall - leave.wall))
        bench.line("cpu seconds (deregistration)", f"{left.cpu - leave.cpu:.2f}")
        bench.line("cpu seconds (whole run)", f"{left.cpu - before.cpu:.2f}")
        handsets.clear()
        return 0 if registered == sims else 1
    finally:
        await bench.bounded(handsets, bench.stop_handset, args.concurrency)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench.raise_fd_limit()
    home = bench.ScratchHome(args.home)
    try:
        with tempfile.TemporaryDirectory(prefix="rcs-bench-reg-") as tmp:
            return asyncio.run(run(args, Path(tmp)))
    except RuntimeError as exc:
        print(f"bench_register: {exc}", file=sys.stderr)
        return 2
    finally:
        home.close()


if __name__ == "__main__":
    sys.exit(main())
