"""Shared test configuration.

- Hypothesis profiles: ``default`` (used by scripts/test.sh and CI) runs a meaningful number
  of examples with no deadline (the suite never asserts wall-clock time); ``thorough``
  (``--hypothesis-profile=thorough``) runs many more for fuzzing sessions.
- The user's own data and config directories are never touched: every test gets fresh ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("default")

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point XDG dirs at the test's temporary directory."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("RCS_TERMINAL_HOME", str(tmp_path / "rcs-home"))
    yield


@pytest.fixture
def wire_dir() -> Path:
    """The wire corpus: captures written by us under tests/data/wire."""
    return DATA / "wire"
