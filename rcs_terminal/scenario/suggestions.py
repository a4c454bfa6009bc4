"""Finding the chip or persistent-menu entry a scenario taps.

A received message can offer chips in three places (formats.md §1-§3): the message's chip
list (the ``botsuggestion`` part of a ``multipart/mixed`` body), the standalone card's own
suggestions, and each carousel card's suggestions. A tap names a chip by display text or by
0-based index:

- with ``card: N``, only that card's suggestions are searched (``0`` is the standalone card);
- by text, the message's chip list first, then the standalone card, then the carousel's
  cards in order (the first chip with exactly that text wins);
- by index, the message's chip list if it has any, else the standalone card's suggestions,
  else the first carousel card's.

A menu entry is named by its display texts from the top level down, separated by ``/``
(``Services/Weather``); the last one must be a reply or an action, not a submenu.
"""

from __future__ import annotations

from collections.abc import Sequence

from rcs_terminal.protocol.up import Action, Menu, Reply, Submenu
from rcs_terminal.scenario.matchers import ObservedMessage
from rcs_terminal.scenario.results import ExpectationFailed

__all__ = ["chip_lists", "find_chip", "find_menu_entry"]

Chip = Reply | Action


def chip_lists(seen: ObservedMessage) -> list[tuple[str, Sequence[Chip]]]:
    """Every place with chips, named (``chips``, ``card``, ``carousel card 2``), in search
    order."""
    places: list[tuple[str, Sequence[Chip]]] = []
    if seen.chips:
        places.append(("chip list", seen.chips))
    if seen.card is not None:
        places.append(("card", seen.card.content.suggestions))
    if seen.carousel is not None:
        for index, content in enumerate(seen.carousel.content):
            places.append((f"carousel card {index}", content.suggestions))
    return places


def _card_chips(seen: ObservedMessage, card: int) -> Sequence[Chip]:
    if seen.carousel is not None:
        if card >= len(seen.carousel.content):
            raise ExpectationFailed(
                f"the carousel has no card {card}",
                expected=f"card {card}",
                actual=f"{len(seen.carousel.content)} cards",
            )
        return seen.carousel.content[card].suggestions
    if seen.card is not None and card == 0:
        return seen.card.content.suggestions
    raise ExpectationFailed(f"the message has no card {card}", actual=seen.summary())


def find_chip(seen: ObservedMessage, chip: str | int, *, card: int | None = None) -> Chip:
    """The chip a tap names (see the module docstring).

    Raises:
        ExpectationFailed: there is no such chip.
    """
    if card is not None:
        places: list[tuple[str, Sequence[Chip]]] = [(f"card {card}", _card_chips(seen, card))]
    else:
        places = chip_lists(seen)
    offered = [c.display_text for _, chips in places for c in chips]
    if isinstance(chip, int):
        chips = places[0][1] if places else ()
        if 0 <= chip < len(chips):
            return chips[chip]
        raise ExpectationFailed(
            f"no chip at index {chip}",
            expected=f"at least {chip + 1} chips",
            actual=repr([c.display_text for c in chips]),
        )
    for _, chips in places:
        for candidate in chips:
            if candidate.display_text == chip:
                return candidate
    raise ExpectationFailed(f"no chip {chip!r}", expected=repr(chip), actual=repr(offered))


def find_menu_entry(menu: Menu | None, path: str) -> Chip:
    """The persistent-menu entry named by ``path`` (``A/B``).

    Raises:
        ExpectationFailed: the bot has no menu, or no such entry.
    """
    if menu is None:
        raise ExpectationFailed("the chatbot has no persistent menu", expected=path)
    entries: Sequence[Reply | Action | Submenu] = menu.entries
    names = [part for part in path.split("/") if part]
    for depth, name in enumerate(names):
        found = next((e for e in entries if e.display_text == name), None)
        if found is None:
            raise ExpectationFailed(
                f"no menu entry {name!r}",
                expected="/".join(names[: depth + 1]),
                actual=repr([e.display_text for e in entries]),
            )
        if isinstance(found, Submenu):
            if depth == len(names) - 1:
                raise ExpectationFailed(f"menu entry {name!r} is a submenu", expected="an entry")
            entries = found.entries
            continue
        if depth != len(names) - 1:
            raise ExpectationFailed(f"menu entry {name!r} has no submenu", expected=path)
        return found
    raise ExpectationFailed("an empty menu path", expected="Entry or Menu/Entry")
