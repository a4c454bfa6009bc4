"""Names in the lab's IMS core: which URIs are the registrar itself, and whom a URI names.

The lab never resolves a name (DESIGN.md, "Every packet stays on loopback"; sip_peers.md §7),
so routing is a matter of recognising names:

- **the registrar itself**: its literal address (``127.0.0.1:<port>``, also ``localhost``),
  the node names ``scscf.<domain>``, ``pcscf.<domain>`` and ``icscf.<domain>`` of every
  served domain (the Service-Route it hands out is ``sip:orig@scscf.<home domain>;lr``), and
  a served domain without a user part (``sip:<home domain>``, the REGISTER Request-URI);
- **served domains**: the home domains of the lab's subscribers plus the lab's service
  domains (``botplatform.lab``);
- **subscribers**: a ``tel:`` URI or a ``sip:`` URI whose user part is a number
  (``+86...``, or ``;user=phone``) names the subscriber with that MSISDN; another
  ``sip:<user>@<served domain>`` names the subscriber with that IMSI or IMPI; failing
  that, a domain may be routed as a whole to one subscriber (the chatbot platform, which
  registers like any UA and answers for every ``sip:<bot>@botplatform.lab``).

:meth:`LabRouting.resolve` turns a Request-URI into its subscriber or the status the proxy
answers with: 404 for an unknown user or number, 403 for a domain the lab does not serve
(it never relays elsewhere), 416 for a URI scheme it cannot route. On top of these rules
the proxy asks three questions of every request: which Route entries name the registrar
(:meth:`LabRouting.strip_own_routes`, RFC 3261 §16.4), who sent it
(:meth:`LabRouting.sender`: a subscriber registered over that very flow, TS 24.229
§5.2.6.3) and where it goes (:meth:`LabRouting.branches`: the contacts to fork to, with
RFC 3841 ``require`` preferences applied, or the status to answer with).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rcs_terminal.engine.transport import Address
from rcs_terminal.errors import SipParseError
from rcs_terminal.lab.bindings import BindingTable, FlowLike, Hop, is_loopback_literal
from rcs_terminal.lab.config_documents import BOTPLATFORM_NAME
from rcs_terminal.lab.subscribers import LabSubscriber, SubscriberDirectory
from rcs_terminal.protocol.sip.features import feature_tags
from rcs_terminal.protocol.sip.headers import NameAddr
from rcs_terminal.protocol.sip.message import Request
from rcs_terminal.protocol.sip.uri import SipUri, TelUri, Uri, cached_parse_uri

__all__ = ["NODE_PREFIXES", "SERVICE_DOMAINS", "Branches", "LabRouting"]

Branches = list[tuple[str, Hop]] | tuple[int, str]
"""Where a request goes: ``(Request-URI, hop)`` per branch, or the status and reason to
answer with instead."""

SERVICE_DOMAINS = (BOTPLATFORM_NAME,)
"""Lab domains served besides the subscribers' home domains."""

NODE_PREFIXES = ("scscf.", "pcscf.", "icscf.")
"""Host names ``<prefix><served domain>`` that stand for the registrar."""


class LabRouting:
    """The lab's naming rules (see the module docstring).

    Args:
        directory: the lab's subscribers (their home domains are served).
        domains: more domains to serve.
    """

    def __init__(self, directory: SubscriberDirectory, domains: Iterable[str] = ()) -> None:
        self.directory = directory
        self._extra = {domain.lower() for domain in (*domains, *SERVICE_DOMAINS)}
        self._homes: set[str] = set()
        self._homes_of = -1
        self._domain_owners: dict[str, str] = {}
        self.host = "127.0.0.1"
        self.port = 0

    # ------------------------------------------------------------------ the registrar itself

    def bind(self, host: str, port: int) -> None:
        """Record the registrar's listening address."""
        self.host = host.strip("[]").lower()
        self.port = port

    def served(self, host: str) -> bool:
        """Whether ``host`` is a domain the lab serves."""
        host = host.lower()
        if len(self.directory) != self._homes_of:
            self._homes = {sub.home_domain.lower() for sub in self.directory}
            self._homes_of = len(self.directory)
        return host in self._homes or host in self._extra

    @property
    def domains(self) -> list[str]:
        """Every served domain, sorted."""
        self.served("")
        return sorted(self._homes | self._extra)

    def is_own_node(self, uri: Uri) -> bool:
        """Whether ``uri`` names the registrar (see the module docstring)."""
        if not isinstance(uri, SipUri):
            return False
        host = uri.host.strip("[]").lower()
        if host in (self.host, "localhost"):
            return uri.port is None or uri.port == self.port
        if host.startswith(NODE_PREFIXES) and self.served(host.split(".", 1)[1]):
            return True
        return uri.user is None and self.served(host)

    def serves(self, uri: Uri) -> bool:
        """Whether a REGISTER Request-URI names the lab (a served domain or the registrar)."""
        return isinstance(uri, SipUri) and (self.is_own_node(uri) or self.served(uri.host))

    # ------------------------------------------------------------------ subscribers

    def route_domain(self, domain: str, owner: str | None) -> None:
        """Send every otherwise unknown ``sip:<user>@<domain>`` to ``owner`` (None: stop)."""
        key = domain.lower()
        if owner is None:
            self._domain_owners.pop(key, None)
        else:
            self._domain_owners[key] = owner.lower()
            self._extra.add(key)

    def domain_owner(self, host: str) -> str | None:
        """The owner a whole domain is routed to, if any."""
        return self._domain_owners.get(host.lower())

    def owner_of(self, uri: Uri | str) -> str | None:
        """The owner (IMPI, lower case) of the subscriber ``uri`` names, or None."""
        owner, _status, _reason = self.resolve(uri)
        return owner

    def subscriber(self, owner: str) -> LabSubscriber | None:
        """The subscriber of an owner key."""
        return self.directory.by_impi(owner)

    def resolve(self, uri: Uri | str) -> tuple[str | None, int, str]:
        """Whom a Request-URI names.

        Returns:
            ``(owner, 0, "")`` for a lab subscriber, else ``(None, status, reason)``.
        """
        if isinstance(uri, str):
            try:
                uri = cached_parse_uri(uri)
            except SipParseError:
                return None, 400, "Bad URI"
        if isinstance(uri, TelUri):
            sub = self.directory.by_msisdn(uri.digits) if uri.is_global else None
            return _found(sub)
        if not isinstance(uri, SipUri):
            return None, 416, "Unsupported URI Scheme"
        host = uri.host.lower()
        if not (self.served(host) or self.is_own_node(uri)):
            return None, 403, "Relaying Forbidden"
        user = uri.user
        if not user:
            return None, 404, "Not Found"
        if user.startswith("+") or uri.params.get("user") == "phone":
            return _found(self.directory.by_msisdn(user) if user.startswith("+") else None)
        sub = self.directory.by_imsi(user) or self.directory.by_impi(f"{user}@{host}")
        if sub is not None:
            return _found(sub)
        owner = self._domain_owners.get(host)
        if owner is not None:
            return owner, 0, ""
        return None, 404, "Not Found"

    # ------------------------------------------------------------------ requests

    def strip_own_routes(self, request: Request) -> tuple[str, list[NameAddr]]:
        """The Request-URI and the Route entries left once the registrar's own are removed
        (RFC 3261 §16.4, the strict-router case included).

        Raises:
            SipParseError: the Request-URI or a Route is malformed.
        """
        uri = request.uri
        routes = request.addresses("Route")
        if routes and self.is_own_node(request.request_uri):
            uri = routes[-1].uri
            routes = routes[:-1]
        while routes and self.is_own_node(routes[0].parsed_uri):
            routes = routes[1:]
        return uri, routes

    def sender(
        self, request: Request, hop: Hop, bindings: BindingTable, now: float
    ) -> tuple[LabSubscriber, str] | None:
        """The subscriber a request comes from, and the P-Asserted-Identity to give it.

        The identity claimed (each P-Preferred-Identity, else From) must name a subscriber
        with a live binding registered over ``hop``. The asserted identity is the preferred
        one when given, else the From when it is a domain-routed name (a chatbot), else
        the subscriber's default IMPU (TS 24.229 §5.2.6.3.3).

        Raises:
            SipParseError: From or P-Preferred-Identity is malformed.
        """
        preferred = [entry.uri for entry in request.addresses("P-Preferred-Identity")]
        for claimed in preferred or [request.from_.uri]:
            owner = self.owner_of(claimed)
            if owner is None or not bindings.registered_over(owner, hop, now):
                continue
            sub = self.subscriber(owner)
            if sub is None:
                continue
            own = self.directory.by_uri(claimed) is sub
            asserted = claimed if preferred or not own else sub.sip_impu
            return sub, f"<{asserted}>"
        return None

    def branches(
        self,
        uri: str,
        routes: list[NameAddr],
        *,
        in_dialog: bool,
        bindings: BindingTable,
        udp: FlowLike | None,
        now: float,
        accept: Sequence[NameAddr] = (),
    ) -> Branches:
        """Where a request with this Request-URI and remaining Route set goes.

        A remaining Route is the next hop (a literal loopback address only, else 403). A
        Request-URI that is a registered contact goes to that binding; in a dialog, one
        that is a literal loopback UDP address goes there. Otherwise the URI must name a
        subscriber (:meth:`resolve`), whose every live contact gets a branch with the
        Request-URI retargeted to it, or 480 when it has none.

        Raises:
            SipParseError: a URI is malformed.
        """
        if routes:
            hop = self._hop_to(routes[0].parsed_uri, bindings, udp)
            return [(uri, hop)] if hop is not None else (403, "Loopback Only")
        target = cached_parse_uri(uri)
        binding = bindings.find_contact(target)
        if binding is not None and binding.expires_at > now:
            return [(uri, binding.hop)]
        if in_dialog:
            hop = self._hop_to(target, bindings, udp)
            if hop is not None:
                return [(uri, hop)]
        owner, status, reason = self.resolve(target)
        if owner is None:
            return status, reason
        live = [b for b in bindings.of(owner, now) if _acceptable(b.tags, accept)]
        if not live:
            return 480, "Temporarily Unavailable"
        return [(binding.uri, binding.hop) for binding in live]

    @staticmethod
    def _hop_to(uri: Any, bindings: BindingTable, udp: FlowLike | None) -> Hop | None:
        if not isinstance(uri, SipUri) or not is_loopback_literal(uri.host):
            return None
        binding = bindings.find_contact(uri)
        if binding is not None:
            return binding.hop
        if udp is None or uri.transport not in (None, "udp"):
            return None
        return Hop.of(udp, Address(uri.host.strip("[]"), uri.port or 5060))


def _acceptable(tags: dict[str, list[str] | None], accept: Sequence[NameAddr]) -> bool:
    for entry in accept:
        if "require" not in entry.params:
            continue
        for name, values in feature_tags(entry.params).items():
            if name not in tags:
                return False
            if values and not set(values) <= set(tags[name] or ()):
                return False
    return True


def _found(sub: LabSubscriber | None) -> tuple[str | None, int, str]:
    if sub is None:
        return None, 404, "Not Found"
    return sub.impi.lower(), 0, ""
