"""A geolocation push (``application/vnd.gsma.rcspushlocation+xml``) as a location card.

GSMA RCC.07 geolocation push and its ``geo:`` text fallback (formats.md §8): a label,
a position with an optional uncertainty radius in a datum (WGS 84, or GCJ-02 on Chinese
platforms), an expiry and a timestamp. The card shows them as text, with the ``geo:`` URI
as the map link: the emulator draws no map and resolves nothing.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.text import Text

from rcs_terminal.errors import RcsTerminalError
from rcs_terminal.protocol.up.geopush import GCJ02, WGS84, LocationPush
from rcs_terminal.render.layout import RenderOptions, line_text
from rcs_terminal.render.sanitize import sanitize

CARD_WIDTH = 56
_DATUMS = {WGS84: "WGS 84", GCJ02: "GCJ-02"}


def coordinates_text(push: LocationPush) -> str:
    """``"30.25961, 120.13026 ±10 m (WGS 84)"``."""
    text = f"{push.latitude:.6f}".rstrip("0").rstrip(".")
    text += ", " + f"{push.longitude:.6f}".rstrip("0").rstrip(".")
    if push.radius is not None:
        text += f" \u00b1{push.radius:g} m"
    datum = _DATUMS.get(push.crs) or sanitize(push.crs, max_length=60)
    return f"{text} ({datum})"


def map_link(push: LocationPush) -> str:
    """The ``geo:`` URI of the position, sanitised for display."""
    try:
        return sanitize(push.to_geo_uri(), max_length=300)
    except RcsTerminalError:
        return f"geo:{push.latitude},{push.longitude}"


class LocationCard:
    """A shared location.

    Args:
        push: the parsed geolocation push (or ``geo:`` text).
        opts: rendering options.
    """

    def __init__(self, push: LocationPush, opts: RenderOptions | None = None) -> None:
        self.push = push
        self.opts = opts or RenderOptions()

    def _parts(self) -> list[RenderableType]:
        push = self.push
        parts: list[RenderableType] = [line_text(push.label or "(no label)", "bold")]
        parts.append(Text(coordinates_text(push)))
        if push.until:
            parts.append(Text(f"valid until {sanitize(push.until, max_length=40)}", style="dim"))
        if push.timestamp:
            parts.append(Text(f"taken {sanitize(push.timestamp, max_length=40)}", style="dim"))
        if push.entity:
            parts.append(Text(f"from {sanitize(push.entity, max_length=80)}", style="dim"))
        parts.append(Text(map_link(push), style="underline", overflow="fold"))
        return parts

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        title = "[location]" if self.opts.plain else "\U0001f4cd location"
        yield Panel(
            Group(*self._parts()),
            box=box.ROUNDED,
            title=Text(title),
            title_align="left",
            width=min(options.max_width, CARD_WIDTH),
        )

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = min(options.max_width, CARD_WIDTH)
        return Measurement(width, width)
