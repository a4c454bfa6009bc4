"""`rcs-terminal provision` against an in-process lab.

The lab runs on its own event loop in a background thread; the command runs through
click's CliRunner in the test's thread (it starts its own loop, as from a shell).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result

from rcs_terminal.cli import cli
from rcs_terminal.exit_codes import ExitCode
from rcs_terminal.lab.lab import Lab
from rcs_terminal.lab.subscribers import SubscriberDirectory, default_directory

T = TypeVar("T")
IMSI1, IMSI2 = "460001234500001", "460111234500002"
KEYS = {
    "sim",
    "imsi",
    "version",
    "validity",
    "impi",
    "impu",
    "home_domain",
    "pcscf",
    "auth_type",
    "services",
    "chatbot",
    "standalone",
    "ft",
}


@cache
def directory() -> SubscriberDirectory:
    return default_directory()


class BackgroundLab:
    """A lab on its own loop in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.lab = Lab(directory=directory())
        self.call(self.lab.start)

    def call(self, func: Callable[[], Any]) -> Any:
        """Run ``func`` (a coroutine function or a plain one) on the lab's loop."""

        async def run() -> Any:
            result = func()
            return await result if asyncio.iscoroutine(result) else result

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(30)

    def close(self) -> None:
        self.call(self.lab.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def lab() -> Iterator[BackgroundLab]:
    background = BackgroundLab()
    yield background
    background.close()


def provision(*args: str) -> Result:
    return CliRunner().invoke(cli, ["provision", *args], env={"COLUMNS": "160"})


def lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_json_for_both_demo_sims(lab: BackgroundLab) -> None:
    result = provision("-p", "demo", "--all", "--json", "--lab", lab.lab.info.http_url)
    assert result.exit_code == ExitCode.OK, result.output
    one, two = lines(result)
    assert set(one) >= KEYS and set(two) >= KEYS
    assert (one["sim"], one["imsi"], one["auth_type"]) == (1, IMSI1, "AKA")
    assert (two["sim"], two["imsi"], two["auth_type"]) == (2, IMSI2, "Digest")
    assert one["impu"] == [
        "sip:+8613800000001@ims.mnc000.mcc460.3gppnetwork.org",
        "tel:+8613800000001",
    ]
    assert one["home_domain"] == "ims.mnc000.mcc460.3gppnetwork.org"
    assert one["pcscf"] == ([lab.lab.info.sip_tcp] if lab.lab.info.sip_tcp else [])
    assert set(one["services"]) >= {"ChatAuth", "standaloneMsgAuth", "ftAuth", "geolocPushAuth"}
    assert one["standalone"]["SwitchoverSize"] == 900
    assert one["chatbot"]["BotinfoFQDNRoot"].startswith("botplatform.lab:")
    assert one["ft"]["ftHTTPCSURI"].endswith("/ft")
    again = lines(provision("-p", "demo", "--json", "--lab", lab.lab.info.http_url))
    assert [(row["sim"], row["from_cache"]) for row in again] == [(1, True)]
    forced = provision(
        "-p", "demo", "--sim", "2", "--json", "--force", "--lab", lab.lab.info.http_url
    )
    assert [(row["sim"], row["from_cache"]) for row in lines(forced)] == [(2, False)]


def test_finds_the_lab_through_lab_json(lab: BackgroundLab) -> None:
    lab.lab.info.save()
    result = provision("-p", "lab-alice", "--json")
    assert result.exit_code == ExitCode.OK, result.output
    assert lines(result)[0]["imsi"] == "460001234500011"


def test_without_a_lab_is_a_profile_error() -> None:
    result = provision("-p", "demo")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "no lab is running" in result.stderr


def test_one_sim_failing_does_not_stop_the_other(lab: BackgroundLab) -> None:
    lab.call(lambda: lab.lab.config_server.set_fault("403", imsi=IMSI2))
    result = provision("-p", "demo", "--all", "--json", "--lab", lab.lab.info.http_url)
    assert result.exit_code == ExitCode.INFRASTRUCTURE
    one, two = lines(result)
    assert one["state"] == "provisioned"
    assert two["state"] == "failed" and "403" in two["error"]
    assert "403" in result.stderr


def test_terms_need_a_flag(lab: BackgroundLab) -> None:
    url = lab.lab.info.http_url
    lab.call(lambda: lab.lab.config_server.set_fault("terms"))
    refused = provision("-p", "lab-bob", "--lab", url)
    assert refused.exit_code == ExitCode.INFRASTRUCTURE
    assert "--accept-terms" in refused.stderr
    accepted = provision("-p", "lab-bob", "--lab", url, "--accept-terms")
    assert accepted.exit_code == ExitCode.OK, accepted.output
    assert "provisioned" in accepted.stdout and "SIM 1" in accepted.stdout


def test_retry_after_beyond_max_wait_gives_up(lab: BackgroundLab) -> None:
    lab.call(lambda: lab.lab.config_server.set_fault("503", retry_after=30))
    result = provision("-p", "lab-carol", "--lab", lab.lab.info.http_url, "--max-wait", "5")
    assert result.exit_code == ExitCode.INFRASTRUCTURE
    assert "beyond the 5 s" in result.stderr


def test_trace_file_holds_the_exchanges_without_secrets(lab: BackgroundLab, tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    lab.call(lambda: lab.lab.config_server.set_fault("otp", once=1))
    result = provision(
        "-p", "demo", "--sim", "2", "--json", "--trace", str(trace), "--lab", lab.lab.info.http_url
    )
    assert result.exit_code == ExitCode.OK, result.output
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    assert {r["protocol"] for r in records} == {"HTTP", "SMS"}
    (sms,) = lab.lab.smsc.messages("+8618900000002")
    text = trace.read_text()
    assert sms.text not in text and "demo-slot2-password" not in text
    assert "OTP=***" in text and "token=***" in text


def test_usage_errors() -> None:
    result = provision("-p", "demo", "--sim", "1", "--all")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert provision("-p", "no-such-profile").exit_code == ExitCode.INVALID_INPUT


def test_unreachable_lab_url_is_a_network_error() -> None:
    result = provision("-p", "demo", "--lab", "http://127.0.0.1:9")
    assert result.exit_code == ExitCode.INFRASTRUCTURE
    assert "no lab answers" in result.stderr
