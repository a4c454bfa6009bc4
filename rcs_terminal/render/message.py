"""Whole messages as Rich renderables: any opened payload, CPIM wrappers, multipart bodies.

A chatbot message reaches the handset as a CPIM message (RFC 3862) whose body is a
botmessage, a text, a file descriptor, a location, or a ``multipart/mixed`` body holding
one of those and then a chip list (formats.md §3, §7). :func:`render_payload` draws the tree
:func:`~.payload.open_payload` builds: a CPIM message as a header summary line (sender,
``DateTime``, a "广告/AD" badge for ``maap.Traffic-Type: advertisement``) above its body;
a multipart body as its parts in order (content, then chips); each document with its own
renderable (:mod:`.card`, :mod:`.carousel`, :mod:`.chips`, :mod:`.menu`, :mod:`.botinfo`,
:mod:`.media`, :mod:`.location`). A part that failed to parse is drawn as an error box in
place, so one bad part does not hide the rest.

:func:`render_model` gives the renderable of one parsed model, for callers (the TUI) that
hold models rather than bytes.
"""

from __future__ import annotations

from rich import box
from rich.align import Align
from rich.console import Group, RenderableType
from rich.constrain import Constrain
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from rcs_terminal.errors import ParseError
from rcs_terminal.protocol.cpim import CPIM_NS, CpimMessage
from rcs_terminal.protocol.imdn import ImdnNotification
from rcs_terminal.protocol.iscomposing import IsComposing
from rcs_terminal.protocol.up.botinfo import BotInfo
from rcs_terminal.protocol.up.botmessage import BotMessage
from rcs_terminal.protocol.up.fthttp import FileTransferInfo
from rcs_terminal.protocol.up.geopush import LocationPush
from rcs_terminal.protocol.up.menu import Menu
from rcs_terminal.protocol.up.sharedclientdata import DeviceSpecifics
from rcs_terminal.protocol.up.suggestions import ChipList, SuggestionResponse
from rcs_terminal.render.botinfo import BotInfoView
from rcs_terminal.render.card import CardView
from rcs_terminal.render.carousel import CarouselView
from rcs_terminal.render.chips import ChipBar
from rcs_terminal.render.layout import RenderOptions, block_text, line_text
from rcs_terminal.render.location import LocationCard
from rcs_terminal.render.media import FileCard, MediaBox
from rcs_terminal.render.menu import MenuView
from rcs_terminal.render.payload import Payload
from rcs_terminal.render.sanitize import sanitize

BUBBLE_WIDTH = 60
"""Widest a text bubble is drawn."""

AD_BADGE = "广告/AD"
"""The badge of ``maap.Traffic-Type: advertisement``."""


def render_botmessage(
    message: BotMessage, opts: RenderOptions | None = None, *, start: int = 0, wrap: bool = True
) -> RenderableType:
    """A single card or a carousel (``start``/``wrap`` as in :class:`~.carousel.CarouselView`)."""
    opts = opts or RenderOptions()
    if message.card is not None:
        return CardView.from_card(message.card, opts)
    assert message.carousel is not None
    return CarouselView(message.carousel, opts, start=start, wrap=wrap)


def text_bubble(text: str, opts: RenderOptions | None = None) -> RenderableType:
    """A text message in a speech bubble (the whole text: messages are not truncated)."""
    bubble = Panel(block_text(text), box=box.ROUNDED, expand=False, border_style="cyan")
    return Constrain(bubble, BUBBLE_WIDTH)


def _response(response: SuggestionResponse, opts: RenderOptions) -> RenderableType:
    label = Text("\u21a9 " if not opts.plain else "[reply] ")
    if response.response_type == "action":
        label = Text("[action] " if opts.plain else "\u2192 ")
    label.append_text(line_text(response.display_text, "bold"))
    if response.postback_data is not None:
        label.append(f"  postback {sanitize(response.postback_data, max_length=80)!r}", "dim")
    bubble = Panel(label, box=box.ROUNDED, expand=False, border_style="green")
    return Align.right(Constrain(bubble, BUBBLE_WIDTH))


def _device(specifics: DeviceSpecifics) -> RenderableType:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim")
    grid.add_column()
    for label, value in (
        ("device model", specifics.device_model),
        ("platform", specifics.platform_version),
        ("client vendor", specifics.client_vendor),
        ("client version", specifics.client_version),
    ):
        if value is not None:
            grid.add_row(label, line_text(value))
    if specifics.battery_remaining_minutes is not None:
        grid.add_row("battery", f"{specifics.battery_remaining_minutes} min")
    return Panel(grid, title=Text("device specifics"), title_align="left", expand=False)


def _imdn(notification: ImdnNotification) -> Text:
    mark = "\u2714" if notification.is_success else "\u2716"
    text = Text(f"{mark} {notification.kind}: {notification.status} ", style="dim")
    text.append(f"(message {sanitize(notification.message_id, max_length=80)})")
    return text


def error_box(error: ParseError, where: str = "") -> RenderableType:
    """A failed part, drawn in place with its reason (sanitised)."""
    reason = sanitize(str(error), multiline=False, max_length=400)
    title = f"unreadable {where}".strip()
    return Panel(Text(reason), title=Text(title), title_align="left", border_style="red")


def render_model(model: object, opts: RenderOptions | None = None) -> RenderableType | None:
    """The renderable of one parsed model, or ``None`` for a type this module does not draw."""
    opts = opts or RenderOptions()
    if isinstance(model, BotMessage):
        return render_botmessage(model, opts)
    if isinstance(model, ChipList):
        return ChipBar(model.suggestions, opts)
    if isinstance(model, Menu):
        return MenuView(model, opts)
    if isinstance(model, BotInfo):
        return BotInfoView(model, opts)
    if isinstance(model, FileTransferInfo):
        return FileCard(model, opts)
    if isinstance(model, LocationPush):
        return LocationCard(model, opts)
    if isinstance(model, str):
        return text_bubble(model, opts)
    if isinstance(model, SuggestionResponse):
        return _response(model, opts)
    if isinstance(model, DeviceSpecifics):
        return _device(model)
    if isinstance(model, ImdnNotification):
        return _imdn(model)
    if isinstance(model, IsComposing):
        return Text(f"\u2026 is composing ({model.state})", style="dim italic")
    return None


def cpim_summary(message: CpimMessage, opts: RenderOptions | None = None) -> Text:
    """One line: the traffic-type badge, the sender, the time and the subject of a message."""
    opts = opts or RenderOptions()
    line = Text()
    traffic = message.traffic_type
    if traffic == "advertisement":
        line.append(f"[{AD_BADGE}]" if opts.plain else f" {AD_BADGE} ", "bold white on red")
        line.append(" ")
    elif traffic is not None:
        line.append(f"[{sanitize(traffic, max_length=30)}] ", "bold")
    try:
        sender = message.from_
    except ParseError:
        sender = None
    if sender is not None:
        if sender.display_name:
            line.append(f"{sanitize(sender.display_name, max_length=40)} ", "bold")
        line.append(f"<{sanitize(sender.uri, max_length=80)}>")
    else:
        raw = message.get(CPIM_NS, "From")
        line.append(sanitize(raw or "(no sender)", max_length=80), "bold")
    stamp = message.datetime
    if stamp is not None:
        line.append(
            f" \u00b7 {stamp.strftime('%Y-%m-%d %H:%M:%S')} {stamp.tzname() or ''}".rstrip()
        )
    elif message.datetime_raw is not None:
        line.append(f" \u00b7 {sanitize(message.datetime_raw, max_length=40)}")
    if message.subject:
        line.append(f" \u00b7 \u201c{sanitize(message.subject, max_length=60)}\u201d", "italic")
    return line


def render_payload(payload: Payload, opts: RenderOptions | None = None) -> RenderableType:
    """Draw an opened payload and everything nested in it."""
    opts = opts or RenderOptions()
    if payload.error is not None:
        return error_box(payload.error, payload.where or payload.media_type)
    if isinstance(payload.model, CpimMessage):
        return Group(
            cpim_summary(payload.model, opts), *(render_payload(p, opts) for p in payload.parts)
        )
    if payload.parts:
        return Group(*(render_payload(p, opts) for p in payload.parts))
    drawn = render_model(payload.model, opts)
    if drawn is not None:
        return drawn
    return MediaBox(str(payload.content_type), 3, size=len(payload.body), opts=opts)
