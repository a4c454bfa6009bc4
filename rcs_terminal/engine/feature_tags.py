"""The UP 2.4 feature tags of each RCS service, both ways (GSMA RCC.07 §2.4, RFC 3840).

An RCS client says what it can do with feature tags on its Contact: in REGISTER, in OPTIONS
and their 200 answers, in INVITE. This module owns the table from *services* (the names
the rest of the engine speaks: ``chat``, ``standalone``, ``fthttp``...) to tags, and back:

- :func:`contact_tags` builds our tags from the services the configuration enables (for
  REGISTER, OPTIONS and its answer); :func:`accept_contact` the ``Accept-Contact`` value;
- :func:`services_from_tags` names the services a peer's tags announce (lenient: legacy
  joyn tags count too), :func:`is_rcs` and :func:`is_bot` answer the two questions the
  capability exchange asks (provisioning_sip.md §4 and §5);
- :func:`services_from_config` reads the ``SERVICES`` switches of a provisioned document.

Encoding and parsing of the parameters themselves (quoting, percent-encoded ICSI/IARI
URNs) is :mod:`rcs_terminal.protocol.sip.features`; here values are plain URNs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rcs_terminal.protocol.provisioning.config import RcsConfig
from rcs_terminal.protocol.sip.features import format_feature_tags

__all__ = [
    "BOTVERSION",
    "DEFAULT_SERVICES",
    "IARI",
    "ICSI",
    "KNOWN_SERVICES",
    "accept_contact",
    "contact_tags",
    "is_automata",
    "is_bot",
    "is_rcs",
    "services_from_config",
    "services_from_tags",
    "tag_strings",
]

ICSI = "+g.3gpp.icsi-ref"
"""The tag listing IMS communication service identifiers (TS 24.229 §7.9A.2)."""
IARI = "+g.3gpp.iari-ref"
"""The tag listing IMS application reference identifiers (TS 24.229 §7.9A.3)."""
PAGER_LARGE = "+g.gsma.rcs.cpm.pager-large"
BOTVERSION = "+g.gsma.rcs.botversion"
ISBOT = "+g.gsma.rcs.isbot"
AUTOMATA = "automata"

ICSI_PREFIX = "urn:urn-7:3gpp-service.ims.icsi."
IARI_PREFIX = "urn:urn-7:3gpp-application.ims.iari."
BOT_VERSIONS = ("#=1", "#=2")
"""The chatbot versions a UP 2.4 client supports (``+g.gsma.rcs.botversion="#=1,#=2"``)."""

_OURS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # service: (ICSI suffixes, IARI suffixes) we announce for it
    "chat": (("oma.cpm.session",), ()),
    "standalone": (("oma.cpm.msg", "oma.cpm.largemsg"), ()),
    "fthttp": ((), ("rcs.fthttp",)),
    "geopush": ((), ("rcs.geopush",)),
    "chatbot": ((), ("rcs.chatbot",)),
    "chatbot.sa": ((), ("rcs.chatbot.sa",)),
    "callcomposer": (("gsma.callcomposer",), ()),
    "postcall": (("gsma.callunanswered",), ()),
    "sharedmap": (("gsma.sharedmap",), ()),
    "sharedsketch": (("gsma.sharedsketch",), ()),
}

KNOWN_SERVICES = tuple(_OURS)
"""Services this client can announce, in the order their tags are written."""

DEFAULT_SERVICES = ("chat", "standalone", "fthttp", "geopush", "chatbot", "chatbot.sa")
"""What a UP 2.4 handset in China announces when nothing is provisioned (static ``ims:``)."""

_FROM_ICSI = {
    "oma.cpm.session": "chat",
    "oma.cpm.session.group": "chat",
    "oma.cpm.msg": "standalone",
    "oma.cpm.largemsg": "standalone",
    "oma.cpm.deferred": "standalone",
    "oma.cpm.filetransfer": "ft",
    "gsma.callcomposer": "callcomposer",
    "gsma.callunanswered": "postcall",
    "gsma.sharedmap": "sharedmap",
    "gsma.sharedsketch": "sharedsketch",
    "mmtel": "ipcall",
}
_FROM_IARI = {
    "rcse.im": "chat",
    "rcs.fthttp": "fthttp",
    "rcse.ft": "ft",
    "rcs.ftsms": "ftsms",
    "rcs.ftstandfw": "ft",
    "rcs.geopush": "geopush",
    "rcs.geosms": "geosms",
    "rcs.geopull": "geopull",
    "rcs.chatbot": "chatbot",
    "rcs.chatbot.sa": "chatbot.sa",
    "rcse.dp": "presence",
    "gsma-is": "imageshare",
}
_FROM_FLAG = {
    "+g.oma.sip-im": "chat",
    PAGER_LARGE: "standalone",
    "+g.gsma.callcomposer": "callcomposer",
    "+g.gsma.rcs.ipcall": "ipcall",
    "+g.gsma.rcs.ipvideocallonly": "ipcall",
    "+g.gsma.rcs.msgrevoke": "msgrevoke",
    "+g.gsma.rcs.msgfallback": "msgfallback",
}
_RCS_MESSAGING = frozenset({"chat", "standalone"})

_SWITCHES = {
    # SERVICES parm (lower case): the services it turns on
    "chatauth": ("chat",),
    "groupchatauth": ("chat",),
    "standalonemsgauth": ("standalone",),
    "ftauth": ("fthttp",),
    "geolocpushauth": ("geopush",),
    "composerauth": ("callcomposer",),
    "postcallauth": ("postcall",),
    "sharedmapauth": ("sharedmap",),
    "sharedsketchauth": ("sharedsketch",),
}


def contact_tags(services: Iterable[str]) -> dict[str, list[str] | None]:
    """Our feature tags for the given services (REGISTER / OPTIONS Contact).

    Args:
        services: service names from :data:`KNOWN_SERVICES`; unknown names are ignored.

    Returns:
        Tag names mapped to their values (plain URNs), in a stable order: ICSI list, IARI
        list, ``+g.gsma.rcs.cpm.pager-large`` (standalone), ``+g.gsma.rcs.botversion``
        (either chatbot service). Empty when no service is enabled.
    """
    enabled = set(services)
    icsi: list[str] = []
    iari: list[str] = []
    for name, (icsi_suffixes, iari_suffixes) in _OURS.items():
        if name in enabled:
            icsi.extend(ICSI_PREFIX + suffix for suffix in icsi_suffixes)
            iari.extend(IARI_PREFIX + suffix for suffix in iari_suffixes)
    tags: dict[str, list[str] | None] = {}
    if icsi:
        tags[ICSI] = icsi
    if iari:
        tags[IARI] = iari
    if "standalone" in enabled:
        tags[PAGER_LARGE] = None
    if enabled & {"chatbot", "chatbot.sa"}:
        tags[BOTVERSION] = list(BOT_VERSIONS)
    return tags


def accept_contact(services: Iterable[str]) -> str | None:
    """The ``Accept-Contact`` value of a capability query: ``*`` with our ICSI/IARI tags.

    Without ``require``/``explicit`` it only states a preference (RFC 3841 §9.2), so a
    proxy still reaches peers that announce fewer services. None when no service is enabled.
    """
    tags = {name: values for name, values in contact_tags(services).items() if name in (ICSI, IARI)}
    return f"*{format_feature_tags(tags)}" if tags else None


def services_from_tags(tags: Mapping[str, Sequence[str] | None]) -> tuple[str, ...]:
    """Name the services a peer's feature tags announce.

    Args:
        tags: tag names (lower case, as :func:`~rcs_terminal.protocol.sip.features.feature_tags`
            returns them) mapped to their values.

    Returns:
        Service names, sorted, without duplicates. Legacy tags (``rcse.im``,
        ``+g.oma.sip-im``) count as ``chat``; unknown URNs are left out.
    """
    found: set[str] = set()
    for urn in _values(tags, ICSI):
        if urn.startswith(ICSI_PREFIX) and urn[len(ICSI_PREFIX) :] in _FROM_ICSI:
            found.add(_FROM_ICSI[urn[len(ICSI_PREFIX) :]])
    for urn in _values(tags, IARI):
        if urn.startswith(IARI_PREFIX) and urn[len(IARI_PREFIX) :] in _FROM_IARI:
            found.add(_FROM_IARI[urn[len(IARI_PREFIX) :]])
    for name, service in _FROM_FLAG.items():
        if name in tags:
            found.add(service)
    if BOTVERSION in tags and not found & {"chatbot", "chatbot.sa"}:
        found.add("chatbot")
    return tuple(sorted(found))


def _values(tags: Mapping[str, Sequence[str] | None], name: str) -> list[str]:
    values = tags.get(name)
    return [value.strip().lower() for value in values] if values else []


def is_rcs(services: Iterable[str]) -> bool:
    """True when the services include RCS messaging (chat or standalone), §5 of the notes."""
    return not _RCS_MESSAGING.isdisjoint(services)


def is_bot(tags: Mapping[str, Sequence[str] | None]) -> bool:
    """True when the tags carry ``+g.gsma.rcs.isbot`` (the peer is a chatbot)."""
    return ISBOT in tags


def is_automata(tags: Mapping[str, Sequence[str] | None]) -> bool:
    """True when the tags carry ``automata``: an answering machine or offline responder."""
    return AUTOMATA in tags


def tag_strings(tags: Mapping[str, Sequence[str] | None]) -> list[str]:
    """Flatten tags for display and JSON: ``name`` for a flag, ``name=value`` per value."""
    flat: list[str] = []
    for name, values in tags.items():
        if values is None:
            flat.append(name)
        else:
            flat.extend(f"{name}={value}" for value in values)
    return flat


def services_from_config(config: RcsConfig) -> tuple[str, ...]:
    """The services a provisioned configuration enables, for our tags.

    ``SERVICES`` switches map to services (``ChatAuth`` -> chat, ``standaloneMsgAuth`` ->
    standalone, ``ftAuth`` -> fthttp, ``geolocPushAuth`` -> geopush...). Chatbot messaging
    follows the messaging services and ``ChatbotMsgTech`` (1 session, 2 both, 3 standalone).
    A document without any SERVICES switch gets :data:`DEFAULT_SERVICES`.
    """
    switches = config.services.values
    if not switches:
        return DEFAULT_SERVICES
    enabled: set[str] = set()
    for name, value in switches:
        if value:
            enabled.update(_SWITCHES.get(name.casefold(), ()))
    tech = config.messaging.chatbot.chatbot_msg_tech
    if "chat" in enabled and tech in (None, 1, 2):
        enabled.add("chatbot")
    if "standalone" in enabled and tech in (None, 2, 3):
        enabled.add("chatbot.sa")
    return tuple(name for name in KNOWN_SERVICES if name in enabled)
