"""Fixtures of the TUI tests (helpers are in ``uihelpers.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from uihelpers import make_handset

from rcs_terminal.ui.fake_handset import FakeHandset


@pytest.fixture
def handset() -> Iterator[FakeHandset]:
    """A fresh fake handset with the demo dataset on the fixed clock."""
    fake = make_handset()
    yield fake
    fake.close()
