"""``rcs-terminal send`` and ``listen``: headless messaging."""

from __future__ import annotations

import sys

import click

from rcs_terminal.commands.common import find_lab, handles_errors, raise_start_error
from rcs_terminal.errors import (
    RcsTerminalError,
)
from rcs_terminal.exit_codes import ExitCode


@click.command()
@click.option("--profile", "-p", required=True, help="Profile name or path.")
@click.option(
    "--sim",
    "slot",
    type=click.IntRange(1, 2),
    help="SIM slot (default: the profile's default SIM).",
)
@click.argument("target")
@click.argument("text", required=False)
@click.option(
    "--file",
    "file_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Send a file (FT via HTTP).",
)
@click.option("--content-type", help="Content type of --body-file (guessed when left out).")
@click.option(
    "--body-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Send this file's bytes as the message body (a card, a chip response...).",
)
@click.option(
    "--wait",
    type=click.Choice(["sent", "delivered", "displayed"]),
    default="sent",
    show_default=True,
    help="The state to wait for (delivered and displayed need the peer's receipts).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for --wait.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option(
    "--trace", "trace_file", type=click.Path(dir_okay=False), help="Write the trace as JSON lines."
)
@click.option("--lab", "lab_url", help="HTTP URL of a running lab (default: lab.json).")
@click.option("--otp", help="The one-time password, if provisioning asks for one.")
@handles_errors
def send(
    profile: str,
    slot: int | None,
    target: str,
    text: str | None,
    file_path: str | None,
    content_type: str | None,
    body_file: str | None,
    wait: str,
    timeout: float,
    as_json: bool,
    trace_file: str | None,
    lab_url: str | None,
    otp: str | None,
) -> None:
    """Send a message to a person or a chatbot (TARGET: tel:/sip: URI or +86 number).

    Registers the SIM (reusing its cached configuration), sends TEXT, --file, or --body-file
    (with --content-type), waits until the message is --wait (sent, delivered or displayed),
    prints the message id, the technology (pager, large, session, sms-fallback) and the final
    state, and de-registers. Exits 0 when the state was reached, 1 when the message failed or
    the wait timed out, 2 for bad input, 3 when the network could not be used.
    """
    import asyncio
    import json
    from pathlib import Path

    from rcs_terminal.domain.profile import load_profile
    from rcs_terminal.engine.capabilities import normalize_target
    from rcs_terminal.engine.handset import Handset
    from rcs_terminal.engine.messaging import OutgoingResult
    from rcs_terminal.engine.trace import TraceRecorder
    from rcs_terminal.protocol.up.contenttypes import detect

    given = [x for x in (text, file_path, body_file) if x is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one of TEXT, --file PATH or --body-file FILE")
    if content_type is not None and body_file is None:
        raise click.UsageError("--content-type goes with --body-file")
    body = b""
    if body_file is not None:
        body = Path(body_file).read_bytes()
        content_type = content_type or detect(body)
        if content_type is None:
            raise click.UsageError("cannot tell the content type of --body-file; give one")
    loaded = load_profile(profile)
    sim = loaded.sim(slot) if slot is not None else loaded.default_sim
    uri = normalize_target(target)
    reached = {"sent": {"sent", "delivered", "displayed"}, "delivered": {"delivered", "displayed"}}
    wanted = reached.get(wait, {wait})
    trace = TraceRecorder()
    if trace_file is not None:
        trace.write_jsonl(trace_file)

    async def deliver() -> tuple[OutgoingResult, str]:
        lab_info = await find_lab(lab_url, [sim])
        handset = Handset(loaded, trace=trace, lab=lab_info, otp=otp, max_attempts=0)
        try:
            error = (await handset.start([sim.slot]))[sim.slot]
            raise_start_error(error)
            messaging = handset.sims[sim.slot].messaging
            assert messaging is not None
            if text is not None:
                result = await messaging.send_text(uri, text)
            elif file_path is not None:
                result = await messaging.send_file(uri, file_path)
            else:
                assert content_type is not None
                result = await messaging.send_content(uri, content_type, body)
            state = result.state
            if state in wanted or state in ("failed", "sms_fallback"):
                return result, state
            try:
                stored = await messaging.wait_for_state(result.message_id, wanted, timeout)
                state = stored.state.value
            except TimeoutError:
                now = handset.store.message(result.message_id)
                state = now.state.value if now is not None else state
            return result, state
        finally:
            await handset.stop()

    try:
        result, state = asyncio.run(deliver())
    finally:
        trace.close()
    ok = state in wanted or (wait == "sent" and state == "sms_fallback")
    reason = result.reason if state in ("failed", "sms_fallback") else None
    if not ok and reason is None:
        reason = f"not {wait} within {timeout:g} s"
    if as_json:
        line = {
            "message_id": result.message_id,
            "technology": result.technology,
            "status": state,
            "reason": reason,
        }
        click.echo(json.dumps(line, ensure_ascii=False))
    else:
        from rich.console import Console
        from rich.text import Text

        from rcs_terminal.render.sanitize import sanitize

        shown = f"{result.message_id} to {uri}: {state} ({result.technology})"
        if reason:
            shown += f" - {reason}"
        Console().print(Text(sanitize(shown)))
    sys.stdout.flush()
    if not ok:
        sys.exit(int(ExitCode.FAILED))


@click.command()
@click.option("--profile", "-p", required=True, help="Profile name or path.")
@click.option(
    "--sim",
    "slot",
    type=click.IntRange(1, 2),
    help="SIM slot (default: the profile's default SIM).",
)
@click.option("--all", "all_sims", is_flag=True, help="Every enabled SIM, concurrently.")
@click.option(
    "--for",
    "duration",
    type=click.FloatRange(0),
    default=0.0,
    metavar="SECONDS",
    help="Listen this long, then de-register (0: until Ctrl-C).",
)
@click.option(
    "--mark-displayed",
    is_flag=True,
    help="Treat every message as seen at once (sends displayed receipts when asked for).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per message.")
@click.option(
    "--trace", "trace_file", type=click.Path(dir_okay=False), help="Write the trace as JSON lines."
)
@click.option("--lab", "lab_url", help="HTTP URL of a running lab (default: lab.json).")
@click.option("--otp", help="The one-time password, if provisioning asks for one.")
@handles_errors
def listen(
    profile: str,
    slot: int | None,
    all_sims: bool,
    duration: float,
    mark_displayed: bool,
    as_json: bool,
    trace_file: str | None,
    lab_url: str | None,
    otp: str | None,
) -> None:
    """Register and print incoming messages (one JSON line each with --json).

    Each line holds the SIM, the sender, the content type and kind, the text, the card or
    carousel, the display texts of the attached chips, the message id and the traffic type.
    Delivery receipts go back automatically; on the lab, plain SMS to the SIM are shown too.
    Exits 0 after --for seconds or on Ctrl-C, 1 when a SIM was refused, 3 when the network
    could not be used.
    """
    import asyncio
    import contextlib
    import json
    import signal

    from rcs_terminal.domain.content import message_record
    from rcs_terminal.domain.events import Event, MessageReceived
    from rcs_terminal.domain.message import Direction
    from rcs_terminal.domain.profile import load_profile
    from rcs_terminal.engine.handset import Handset
    from rcs_terminal.engine.trace import TraceRecorder

    if slot is not None and all_sims:
        raise click.UsageError("give --sim N or --all, not both")
    loaded = load_profile(profile)
    sims = (
        list(loaded.enabled_sims)
        if all_sims
        else [loaded.sim(slot) if slot is not None else loaded.default_sim]
    )
    trace = TraceRecorder()
    if trace_file is not None:
        trace.write_jsonl(trace_file)

    def show(record: dict[str, object]) -> None:
        if as_json:
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            from rich.console import Console
            from rich.text import Text

            from rcs_terminal.render.sanitize import sanitize

            card = record["card"]
            body = record["text"] or (f"[{record['kind']}]" if card is None else "[card]")
            line = f"SIM {record['sim']} {record['from']}: {body}"
            chips = record["suggestions"]
            if isinstance(chips, list) and chips:
                line += "  [" + " | ".join(str(c) for c in chips) + "]"
            if record["traffic_type"]:
                line += f"  ({record['traffic_type']})"
            Console().print(Text(sanitize(line)))
        sys.stdout.flush()

    async def session() -> RcsTerminalError | None:
        lab_info = await find_lab(lab_url, sims)
        handset = Handset(loaded, trace=trace, lab=lab_info, otp=otp, max_attempts=0)
        queue: asyncio.Queue[MessageReceived] = asyncio.Queue()

        def on_event(event: Event) -> None:
            if isinstance(event, MessageReceived):
                queue.put_nowait(event)

        handset.bus.subscribe(on_event)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        readers: list[asyncio.Task[None]] = []
        try:
            starting = asyncio.ensure_future(handset.start([s.slot for s in sims]))
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not starting.done():
                starting.cancel()
                raise KeyboardInterrupt
            stopped.cancel()
            errors = [error for error in starting.result().values() if error is not None]
            if errors:
                return errors[0]
            for s in sims:  # diagnostics on stderr: stdout carries only the messages
                reg = handset.sims[s.slot].registration
                who = reg.default_impu if reg is not None else s.msisdn
                click.echo(f"listening on SIM {s.slot} as {who}", err=True)
            sys.stderr.flush()
            if lab_info is not None:
                for s in sims:
                    messaging = handset.sims[s.slot].messaging
                    if messaging is not None:
                        readers.append(loop.create_task(messaging.run_sms_inbox(lab_info.smsc_url)))

            async def pump() -> None:
                while True:
                    event = await queue.get()
                    stored = handset.store.message(event.message_id, direction=Direction.INCOMING)
                    if stored is None:
                        continue
                    show(message_record(stored))
                    messaging = handset.sims[event.sim].messaging
                    if mark_displayed and messaging is not None:
                        await messaging.mark_displayed(stored.message_id)

            printer = loop.create_task(pump())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), None if duration == 0 else duration)
            printer.cancel()
            while not queue.empty():  # what arrived in the last moment
                event = queue.get_nowait()
                stored = handset.store.message(event.message_id, direction=Direction.INCOMING)
                if stored is not None:
                    show(message_record(stored))
            return None
        finally:
            for reader in readers:
                reader.cancel()
            await handset.stop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

    try:
        error = asyncio.run(session())
    finally:
        trace.close()
    raise_start_error(error)
