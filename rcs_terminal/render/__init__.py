"""Chatbot payloads drawn with Rich: the renderables ``rcs-terminal render`` prints and the
TUI embeds (GSMA UP 2.4 rich cards, carousels, chips, persistent menu; formats.md §1-§8).

Nothing is imported here, so that :mod:`.payload` (Rich-free) can be used by the linter
without loading Rich. What callers use:

- :func:`.payload.open_payload` (bytes -> a tree of parsed parts) and
  :func:`.message.render_payload` (that tree -> one renderable);
- :func:`.message.render_model` / :func:`.message.render_botmessage` for parsed models;
- the views: :class:`.card.CardView`, :class:`.carousel.CarouselView` (``start`` for
  scrolling), :class:`.chips.ChipBar`, :class:`.chips.CardChips`, :class:`.menu.MenuView`,
  :class:`.botinfo.BotInfoView`, :class:`.media.MediaBox`, :class:`.media.FileCard`,
  :class:`.location.LocationCard`; all take a :class:`.layout.RenderOptions`;
- :func:`.sanitize.sanitize` for any other network text.
"""
