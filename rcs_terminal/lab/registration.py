"""The REGISTER procedure of the lab's S-CSCF (RFC 3261 §10.3, TS 24.229 §5.4.1), without I/O.

:class:`RegisterProcessor` turns one REGISTER (and the hop it came over) into the response
to send and the binding changes the reg event package must report. In order:

1. **Who is it?** The IMPI comes from the ``Authorization`` header (the initial IMS
   REGISTER carries one with an empty response), else the subscriber is looked up by the
   To IMPU. The To IMPU must belong to that subscriber; the Request-URI must name a domain
   the lab serves (``sip:<home domain>``). Unknown subscribers and mismatches get 403.
2. **Faults** switched on for the subscriber (:mod:`.sip_faults`): 503 with Retry-After, or
   403. (``drop`` is handled before the transaction layer sees the request.)
3. **Authentication** (:mod:`.reg_auth`): 401 with a Digest or AKA challenge, or 403.
4. **Contacts**: ``Contact: *`` with ``Expires: 0`` removes every binding; otherwise each
   Contact's expiry (its ``expires`` parameter, else the Expires header, else the default)
   of 0 removes its binding, one below ``min_expires`` fails the whole request with 423 and
   ``Min-Expires``, and the others are bound for the requested time capped at
   ``max_expires`` (600000 asked, 3600 granted by default). A REGISTER older than the
   binding it updates (same Call-ID, CSeq not higher) fails with 500, §10.3 step 7.
5. **200 OK**: every current Contact with its ``expires``; ``Service-Route:
   <sip:orig@scscf.<home domain>;lr>``; ``P-Associated-URI`` listing the subscriber's IMPUs,
   the default (``sip:``) one first; the ``Path`` the handset sent, echoed (RFC 3327).

UDP bindings are reached at the Contact's address when it is a literal loopback address,
else at the REGISTER's source; TCP bindings over the connection the REGISTER came on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rcs_terminal.engine.transport import Address
from rcs_terminal.errors import SipParseError
from rcs_terminal.lab.bindings import Binding, BindingTable, Hop, binding_key, is_loopback_literal
from rcs_terminal.lab.reg_auth import AuthOutcome, RegAuthenticator
from rcs_terminal.lab.reg_event import ContactChange
from rcs_terminal.lab.sip_faults import SipFaultSwitch
from rcs_terminal.lab.subscribers import LabSubscriber, SubscriberDirectory
from rcs_terminal.protocol.sip.auth import Credentials, parse_credentials
from rcs_terminal.protocol.sip.features import feature_tags
from rcs_terminal.protocol.sip.headers import NameAddr
from rcs_terminal.protocol.sip.message import Request, Response, build_response
from rcs_terminal.protocol.sip.uri import SipUri, Uri

__all__ = ["RegisterOutcome", "RegisterProcessor", "subscriber_names"]


@dataclass
class RegisterOutcome:
    """What to do about one REGISTER.

    Attributes:
        response: the response to send.
        subscriber: the subscriber the request was for, when it was identified.
        changes: binding changes for the reg event package (after a 200).
    """

    response: Response
    subscriber: LabSubscriber | None = None
    changes: list[ContactChange] = field(default_factory=list)


def subscriber_names(sub: LabSubscriber) -> list[str]:
    """Every name a fault may target the subscriber by."""
    return [sub.impi, sub.imsi, sub.msisdn, *sub.impus]


class RegisterProcessor:
    """Handles REGISTER requests for the registrar.

    Args:
        directory: the lab's subscribers.
        bindings: the location table it updates.
        auth: the authenticator.
        faults: the fault switches.
        serves: tells whether a Request-URI names the lab (a served domain or the
            registrar's own address).
        new_tag: returns a fresh To tag.
        min_expires: shortest registration accepted (shorter ones get 423).
        max_expires: longest registration granted.
        default_expires: the expiry of a Contact that asks for none.
    """

    def __init__(
        self,
        directory: SubscriberDirectory,
        bindings: BindingTable,
        auth: RegAuthenticator,
        faults: SipFaultSwitch,
        *,
        serves: Callable[[Uri], bool],
        new_tag: Callable[[], str],
        min_expires: int = 60,
        max_expires: int = 3600,
        default_expires: int = 3600,
    ) -> None:
        self.directory = directory
        self.bindings = bindings
        self.auth = auth
        self.faults = faults
        self._serves = serves
        self._new_tag = new_tag
        self.min_expires = min_expires
        self.max_expires = max_expires
        self.default_expires = default_expires

    # ------------------------------------------------------------------ identification

    def identify(self, request: Request) -> tuple[LabSubscriber | None, Credentials | None]:
        """The subscriber a REGISTER is for, and its credentials for the subscriber's realm.

        Raises:
            SipParseError, AuthChallengeError: a header needed is malformed (answer 400).
        """
        credentials = [
            parse_credentials(value) for value in request.headers.get_all("Authorization")
        ]
        named = [c for c in credentials if c.scheme == "Digest" and c.username]
        if named:
            sub = self.directory.by_impi(named[0].username or "")
        else:
            sub = self.directory.by_uri(request.to.uri)
        if sub is None:
            return None, None
        chosen = next(
            (c for c in named if (c.realm or "").lower() == sub.home_domain.lower()), None
        )
        return sub, chosen or (named[0] if named else None)

    # ------------------------------------------------------------------ the procedure

    def process(self, request: Request, hop: Hop, now: float) -> RegisterOutcome:
        """Run the REGISTER procedure (see the module docstring).

        Raises:
            SipParseError, AuthChallengeError: a header is malformed (answer 400).
        """
        if not self._serves(request.request_uri):
            return self._reply(request, 403, "Domain Not Served")
        sub, credentials = self.identify(request)
        if sub is None:
            return self._reply(request, 403, "Unknown Subscriber")
        if self.directory.by_uri(request.to.uri) is not sub:
            return self._reply(request, 403, "Public Identity Not Associated", sub)
        fault = self.faults.take(subscriber_names(sub), ("503", "403"))
        if fault is not None and fault.kind == "503":
            outcome = self._reply(request, 503, None, sub)
            outcome.response.headers.add("Retry-After", str(fault.retry_after))
            return outcome
        if fault is not None:
            return self._reply(request, 403, None, sub)
        decision = self.auth.authenticate(sub, credentials, now=now, body=request.body)
        if decision.outcome is AuthOutcome.CHALLENGE:
            outcome = self._reply(request, 401, None, sub)
            for value in decision.challenges:
                outcome.response.headers.add("WWW-Authenticate", value)
            return outcome
        if decision.outcome is AuthOutcome.FORBIDDEN:
            return self._reply(request, 403, decision.reason or None, sub)
        return self._bind(request, hop, sub, now)

    def _bind(self, request: Request, hop: Hop, sub: LabSubscriber, now: float) -> RegisterOutcome:
        owner = sub.impi.lower()
        contacts = request.contacts
        default = _expires_header(request)
        if any(contact.is_wildcard for contact in contacts):
            if len(contacts) != 1 or default != 0:
                return self._reply(request, 400, "Invalid Wildcard", sub)
            removed = self.bindings.remove_owner(owner)
            return self._ok(request, sub, now, [(b, "terminated", "unregistered") for b in removed])
        plans: list[tuple[NameAddr, int]] = []
        for contact in contacts:
            expires = contact.expires
            if expires is None:
                expires = self.default_expires if default is None else default
            if 0 < expires < self.min_expires:
                outcome = self._reply(request, 423, None, sub)
                outcome.response.headers.add("Min-Expires", str(self.min_expires))
                return outcome
            if not isinstance(contact.parsed_uri, SipUri):
                return self._reply(request, 400, "Contact Is Not A SIP URI", sub)
            feature_tags(contact.params)  # refuses malformed tags now, not when routing
            existing = self.bindings.get(owner, binding_key(contact))
            if (
                existing is not None
                and existing.call_id == request.call_id
                and existing.cseq >= request.cseq.seq
            ):
                return self._reply(request, 500, "Out Of Order", sub)
            plans.append((contact, expires))
        changes: list[ContactChange] = []
        path = tuple(request.headers.get_all("Path"))
        for contact, expires in plans:
            key = binding_key(contact)
            if expires == 0:
                gone = self.bindings.remove(owner, key)
                if gone is not None:
                    changes.append((gone, "terminated", "unregistered"))
                continue
            existing = self.bindings.get(owner, key)
            binding = Binding(
                owner=owner,
                key=key,
                contact=NameAddr(
                    contact.uri, contact.display_name, contact.params.without("expires")
                ),
                hop=_contact_hop(contact, hop),
                source=hop.address,
                expires_at=now + min(expires, self.max_expires),
                registered_at=now if existing is None else existing.registered_at,
                call_id=request.call_id,
                cseq=request.cseq.seq,
                id=self.bindings.new_id() if existing is None else existing.id,
                path=path,
            )
            event, evicted = self.bindings.put(binding)
            changes.append((binding, "active", event))
            changes.extend((old, "terminated", "unregistered") for old in evicted)
        return self._ok(request, sub, now, changes)

    def _ok(
        self, request: Request, sub: LabSubscriber, now: float, changes: list[ContactChange]
    ) -> RegisterOutcome:
        outcome = self._reply(request, 200, None, sub)
        headers = outcome.response.headers
        for binding in self.bindings.of(sub.impi.lower(), now):
            headers.add("Contact", binding.contact_value(now))
        for value in request.headers.get_all("Path"):
            headers.add("Path", value)
        headers.add("Service-Route", f"<sip:orig@scscf.{sub.home_domain};lr>")
        headers.add("P-Associated-URI", ", ".join(f"<{uri}>" for uri in sub.impus))
        outcome.changes = changes
        return outcome

    def _reply(
        self,
        request: Request,
        status: int,
        reason: str | None,
        sub: LabSubscriber | None = None,
    ) -> RegisterOutcome:
        response = build_response(request, status, reason, to_tag=self._new_tag())
        return RegisterOutcome(response, sub)


def _expires_header(request: Request) -> int | None:
    raw = request.headers.get("Expires")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        raise SipParseError("Expires is not a number", where="header Expires", status_hint=400)
    return int(raw)


def _contact_hop(contact: NameAddr, hop: Hop) -> Hop:
    uri = contact.parsed_uri
    if hop.reliable or not isinstance(uri, SipUri) or not is_loopback_literal(uri.host):
        return hop
    return Hop.of(hop.flow, Address(uri.host.strip("[]"), uri.port or 5060))
