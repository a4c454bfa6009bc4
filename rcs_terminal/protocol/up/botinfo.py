"""Chatbot information (the bot-info JSON served by ``BotinfoFQDNRoot``), formats.md §6.

The exact nesting is not public (no RCC.07 text); this reader follows the field names
open clients parse and accepts the variants seen in them:

- the name in ``pcc.org-details.org-name[]`` (``display-name`` + ``org-name-type``) or in
  the older ``pcc.org-details.name.name-entry`` (a warning notes the older spelling);
- the theme colour at ``botinfo.colour`` or as a ``media-list`` entry labelled ``Colour``
  (``#RRGGBB`` or base64 of it), the logo as a ``media-list`` entry labelled ``Icon`` /
  ``Logo``;
- service id, SMS and e-mail as ``comm-addr.uri-entry`` items labelled ``ServiceID``,
  ``SMS``, ``Email``; website and T&C page as ``web-resources.web-entry`` items (or the
  flat ``website``/``TCPage``/``email`` members);
- single objects where lists are expected and vice versa;
- ``bot-verification`` and ``persistent-menu`` at the top level or inside ``botinfo``.

Every part is optional. Unknown members are not reported here (vendors add many); the
whole document is kept in :attr:`BotInfo.raw`. :func:`build_botinfo` emits the modern form
for the lab's bot-info server.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rcs_terminal.errors import PayloadParseError
from rcs_terminal.protocol.up._json import (
    VARIANT_SPELLING,
    Context,
    JsonInput,
    JsonObject,
    PayloadWarning,
    as_object,
    dump_json,
    load_object,
    put,
    type_name,
)
from rcs_terminal.protocol.up.menu import Menu, menu_from_json

_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}\Z")


@dataclass(frozen=True, kw_only=True)
class BotInfo:
    """What a handset shows about a chatbot.

    Attributes:
        service_id: the chatbot's SIP URI (``uri-entry`` labelled ``ServiceID``).
        name: display name.
        description: ``org-description``.
        logo_url: the icon.
        colour: theme colour as sent (``#RRGGBB`` or base64; see :attr:`colour_hex`).
        verified: verification state, ``None`` when not stated.
        verified_by: who verified the chatbot.
        expires: when the verification expires.
        categories: ``category-list`` entries.
        website: the website URL.
        tc_page: terms-and-conditions URL.
        sms: SMS address (``sms:...`` URI as sent).
        email: e-mail address (``mailto:...`` URI or plain address as sent).
        tel: telephone number.
        address: postal address text.
        background_image: ``backgroundImage`` URL.
        persistent_menu: the persistent menu.
        raw: the whole decoded document (not part of equality).
        warnings: what was tolerated while parsing (not part of equality).
    """

    service_id: str | None = None
    name: str | None = None
    description: str | None = None
    logo_url: str | None = None
    colour: str | None = None
    verified: bool | None = None
    verified_by: str | None = None
    expires: str | None = None
    categories: tuple[str, ...] = ()
    website: str | None = None
    tc_page: str | None = None
    sms: str | None = None
    email: str | None = None
    tel: str | None = None
    address: str | None = None
    background_image: str | None = None
    persistent_menu: Menu | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    warnings: tuple[PayloadWarning, ...] = field(default=(), compare=False, repr=False)

    @property
    def colour_hex(self) -> str | None:
        """The theme colour as ``#RRGGBB`` (decoding base64 when needed), or ``None``."""
        if self.colour is None:
            return None
        if _HEX_COLOUR.match(self.colour):
            return self.colour
        try:
            decoded = base64.b64decode(self.colour, validate=True).decode("ascii").strip()
        except (binascii.Error, ValueError):
            return None
        return decoded if _HEX_COLOUR.match(decoded) else None

    def to_dict(self) -> dict[str, Any]:
        """The bot-info document in its modern form."""
        org: dict[str, Any] = {}
        if self.name is not None:
            org["org-name"] = [{"display-name": self.name, "org-name-type": "OfficialName"}]
        uris: list[dict[str, Any]] = []
        if self.service_id is not None:
            uris.append({"addr-uri-type": "SIP-URI", "addr-uri": self.service_id})
            uris[-1]["label"] = "ServiceID"
        for uri, label in ((self.sms, "SMS"), (self.email, "Email")):
            if uri is not None:
                uris.append({"addr-uri": uri, "label": label})
        comm: dict[str, Any] = {"uri-entry": uris} if uris else {}
        if self.tel is not None:
            comm["tel"] = {"tel-type": "Work", "tel-nb": {"tel-str": self.tel}}
        put(org, "comm-addr", comm or None)
        if self.logo_url is not None:
            logo = {"media": {"media-url": self.logo_url}, "media-content": "Logo", "label": "Icon"}
            org["media-list"] = {"media-entry": [logo]}
        if self.categories:
            org["category-list"] = {"category-entry": list(self.categories)}
        put(org, "org-description", self.description)
        webs = [
            {"url": url, "label": label}
            for url, label in ((self.website, "Website"), (self.tc_page, "TCPage"))
            if url is not None
        ]
        if webs:
            org["web-resources"] = {"web-entry": webs}
        info: dict[str, Any] = {"pcc": {"pcc-type": "ORG", "org-details": org}}
        put(info, "colour", self.colour)
        put(info, "backgroundImage", self.background_image)
        if self.address is not None:
            info["address"] = {"address-entry": [{"addr-string": self.address}]}
        out: dict[str, Any] = {"botinfo": info}
        verification: dict[str, Any] = {}
        put(verification, "verified", self.verified)
        put(verification, "verified-by", self.verified_by)
        put(verification, "expires", self.expires)
        if verification:
            out["bot-verification"] = {"verification-info": verification}
        if self.persistent_menu is not None:
            out["persistent-menu"] = self.persistent_menu.to_dict()
        return out

    def to_json(self) -> bytes:
        """:meth:`to_dict` serialised."""
        return dump_json(self.to_dict())


def build_botinfo(
    service_id: str | None,
    name: str | None,
    *,
    description: str | None = None,
    logo_url: str | None = None,
    colour: str | None = None,
    verified: bool | None = None,
    verified_by: str | None = None,
    expires: str | None = None,
    categories: tuple[str, ...] = (),
    website: str | None = None,
    tc_page: str | None = None,
    sms: str | None = None,
    email: str | None = None,
    tel: str | None = None,
    address: str | None = None,
    background_image: str | None = None,
    persistent_menu: Menu | None = None,
) -> bytes:
    """The bot-info JSON body for the lab's bot-info server (see :class:`BotInfo`)."""
    return BotInfo(
        service_id=service_id,
        name=name,
        description=description,
        logo_url=logo_url,
        colour=colour,
        verified=verified,
        verified_by=verified_by,
        expires=expires,
        categories=tuple(categories),
        website=website,
        tc_page=tc_page,
        sms=sms,
        email=email,
        tel=tel,
        address=address,
        background_image=background_image,
        persistent_menu=persistent_menu,
    ).to_json()


# --------------------------------------------------------------------------- parsing


def _items(o: JsonObject | None, key: str) -> list[JsonObject]:
    """Member ``key`` as a list of objects, whether sent as one object or an array."""
    if o is None:
        return []
    value = o.get(key)
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [as_object(value, o.at(key), o.ctx)]
    return [as_object(v, p, o.ctx) for v, p in o.array(key)]


def _label(o: JsonObject, key: str = "label") -> str:
    return (o.text(key) or "").casefold()


def _name(org: JsonObject | None) -> str | None:
    if org is None:
        return None
    if isinstance(org.get("org-name"), str):
        return org.text("org-name")
    names = _items(org, "org-name")
    official = [n for n in names if _label(n, "org-name-type") == "officialname"]
    for entry in official + names:
        if (text := entry.text("display-name")) is not None:
            return text
    legacy = org.obj("name")
    for entry in _items(legacy, "name-entry"):
        if (text := entry.text("display-name")) is not None:
            org.ctx.warn(org.at("name"), VARIANT_SPELLING, "older 'name.name-entry' form")
            return text
    return None


def _strings(o: JsonObject | None, key: str) -> tuple[str, ...]:
    if o is None:
        return ()
    value = o.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    out = []
    for item, path in o.array(key):
        if not isinstance(item, str):
            raise PayloadParseError(f"expected a string, found {type_name(item)}", where=path)
        out.append(item)
    return tuple(out)


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v is not None), None)


def _address(info: JsonObject) -> str | None:
    if isinstance(info.get("address"), str):
        return info.text("address")
    for entry in _items(info.obj("address"), "address-entry"):
        if (text := entry.text("addr-string")) is not None:
            return text
    return None


def parse_botinfo(data: JsonInput) -> BotInfo:
    """Parse a bot-info document; every part is optional.

    Raises:
        PayloadParseError: when the input is not a JSON object holding ``botinfo``,
            ``persistent-menu`` or ``bot-verification``, or a part has the wrong type.
    """
    ctx = Context()
    doc = load_object(data)
    root = JsonObject(doc, "$", ctx)
    if not any(k in root for k in ("botinfo", "persistent-menu", "bot-verification")):
        raise root.error("not a bot-info document (no botinfo, persistent-menu, bot-verification)")
    info = root.obj("botinfo") or JsonObject({}, root.at("botinfo"), ctx)
    pcc = info.obj("pcc")
    org = pcc.obj("org-details") if pcc else None
    comm = org.obj("comm-addr") if org else None

    found: dict[str, str] = {}
    for entry in _items(comm, "uri-entry"):
        uri = entry.text("addr-uri")
        if uri is not None:
            found.setdefault(_label(entry), uri)
    tel = None
    for entry in _items(comm, "tel"):
        number = entry.obj("tel-nb")
        if number is not None and (tel := number.text("tel-str")) is not None:
            break
    media_list = org.obj("media-list") if org else None
    logo: str | None = None
    colour: str | None = None
    for entry in _items(media_list, "media-entry"):
        media = entry.obj("media")
        label, content = _label(entry), _label(entry, "media-content")
        if media is None:
            continue
        if logo is None and (label == "icon" or content == "logo"):
            logo = media.text("media-url")
        elif colour is None and (label == "colour" or label == "color"):
            colour = media.text("content")
    webs: dict[str, str] = {}
    resources = org.obj("web-resources") if org else None
    for entry in _items(resources, "web-entry"):
        url = entry.text("url")
        if url is not None:
            webs.setdefault(_label(entry), url)

    verification_holder = root.obj("bot-verification") or info.obj("bot-verification")
    verification = verification_holder.obj("verification-info") if verification_holder else None
    menu_value = root.get("persistent-menu")
    menu_path = root.at("persistent-menu")
    if menu_value is None:
        menu_value, menu_path = info.get("persistent-menu"), info.at("persistent-menu")
    menu = None
    if menu_value is not None:
        menu = menu_from_json(as_object(menu_value, menu_path, Context()))
        ctx.warnings.extend(menu.warnings)

    return BotInfo(
        service_id=found.get("serviceid"),
        name=_name(org),
        description=org.text("org-description") if org else None,
        logo_url=logo,
        colour=_first(info.text("colour"), colour),
        verified=verification.boolean("verified") if verification else None,
        verified_by=verification.text("verified-by") if verification else None,
        expires=verification.text("expires") if verification else None,
        categories=_strings(org.obj("category-list") if org else None, "category-entry"),
        website=_first(webs.get("website"), info.text("website")),
        tc_page=_first(webs.get("tcpage"), info.text("TCPage")),
        sms=found.get("sms"),
        email=_first(found.get("email"), info.text("email")),
        tel=tel,
        address=_address(info),
        background_image=info.text("backgroundImage"),
        persistent_menu=menu,
        raw=doc,
        warnings=tuple(ctx.warnings),
    )
