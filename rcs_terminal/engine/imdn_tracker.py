"""Delivery and display receipts (IMDN, RFC 5438) for one SIM, both ways.

Receipts we receive
    A ``delivered``, ``displayed`` or failure notification names one of our
    imdn.Message-IDs; :meth:`ImdnTracker.apply` runs it through the store's delivery-state
    machine (:mod:`rcs_terminal.domain.message`), which ignores receipts that arrive out of
    order or twice, and publishes :class:`~rcs_terminal.domain.events.MessageStateChanged`
    when the state moved. A receipt for a message we do not know is accepted and ignored.

Receipts we send
    When an incoming message asks for ``positive-delivery`` we answer ``delivered`` once it
    is committed (RFC 5438 §7.2.1.1: after the message reached the device); when it asks for
    ``display``, :meth:`ImdnTracker.send_displayed` answers ``displayed`` once the user has
    seen it. Each receipt is a CPIM message of its own (a fresh imdn.Message-ID,
    ``Content-Disposition: notification``, :func:`~rcs_terminal.protocol.imdn.build_imdn_cpim`)
    carried like a standalone message (pager mode; inside the chat session when the message
    came in one). The user's settings decide (``messaging.delivery_notifications`` /
    ``displayed_notifications``), except that a chatbot the user told to receive display
    receipts (the ``enableDisplayedNotifications`` settings action, formats.md §2) gets them.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from rcs_terminal.domain.message import StoredMessage, canonical_peer
from rcs_terminal.engine.carriers import CarrierResult
from rcs_terminal.errors import LocalProtocolError
from rcs_terminal.protocol.imdn import ImdnKind, ImdnNotification, ImdnStatus, build_imdn_cpim

if TYPE_CHECKING:
    from rcs_terminal.engine.messaging import MessagingService

__all__ = ["ImdnTracker"]

log = logging.getLogger(__name__)


class ImdnTracker:
    """Applies the receipts we get and sends the ones we owe (see the module docstring).

    Args:
        service: the SIM's messaging service (store, bus, carriers, settings, identity).
    """

    def __init__(self, service: MessagingService) -> None:
        self.service = service
        self._display_allowed: set[str] = set()

    # ------------------------------------------------------------------ incoming receipts

    def apply(self, notification: ImdnNotification) -> None:
        """Apply a receipt for one of our messages; publishes the state when it moved."""
        service = self.service
        change = service.store.apply_imdn(
            notification.message_id,
            notification.status,
            service.now(),
            kind=notification.kind,
        )
        if change is None:
            log.info("receipt for unknown message %s ignored", notification.message_id)
            return
        if change.changed:
            service.publish_state(change.message)

    # ------------------------------------------------------------------ policy

    def allow_display_reports(self, peer: str) -> None:
        """Send display receipts to ``peer`` whatever the user's global setting (a
        chatbot's ``enableDisplayedNotifications`` action, accepted by the user)."""
        self._display_allowed.add(canonical_peer(peer))

    def wants_delivery_report(self, message: StoredMessage) -> bool:
        """Whether a ``delivered`` receipt goes out for this incoming message."""
        return (
            "positive-delivery" in message.disposition_requested
            and self.service.settings.delivery_notifications
        )

    def may_report_display(self, message: StoredMessage) -> bool:
        """Whether a ``displayed`` receipt may go out for this incoming message (asked for,
        not sent yet, and allowed by the user)."""
        if not message.wants_display_report:
            return False
        if self.service.settings.displayed_notifications:
            return True
        return canonical_peer(message.peer_uri) in self._display_allowed

    # ------------------------------------------------------------------ outgoing receipts

    async def send_delivered(self, message: StoredMessage) -> CarrierResult:
        """Send the ``delivered`` receipt of an incoming message."""
        return await self._send(message, "delivery", "delivered")

    async def send_displayed(self, message: StoredMessage) -> CarrierResult:
        """Send the ``displayed`` receipt of an incoming message and record that it went
        out (when the network accepted it)."""
        result = await self._send(message, "display", "displayed")
        if result.ok:
            self.service.store.set_displayed_reported(
                message.message_id, sim=message.sim, peer_uri=message.peer_uri
            )
        return result

    async def _send(
        self, message: StoredMessage, kind: ImdnKind, status: ImdnStatus
    ) -> CarrierResult:
        service = self.service
        now = service.now()
        sent = message.sent_at if message.sent_at is not None else message.created_at
        notification = ImdnNotification(
            message_id=message.message_id,
            datetime=dt.datetime.fromtimestamp(sent, dt.UTC),
            kind=kind,
            status=status,
            original_recipient_uri=None,
        )
        try:
            body = build_imdn_cpim(
                notification,
                from_=service.identity,
                to=message.peer_uri,
                new_message_id=service.new_message_id(),
                datetime=dt.datetime.fromtimestamp(now, dt.UTC),
            )
        except LocalProtocolError as exc:  # a peer URI or id that cannot be written back
            log.warning("cannot write a %s receipt for %s: %s", status, message.message_id, exc)
            return CarrierResult(False, None, str(exc))
        carrier = service.carrier_for_receipt(message.technology.value)
        headers = service.cpm_headers(message.cpim_conversation_id, message.contribution_id)
        chatbot = service.is_chatbot(message.peer_uri)
        result = await carrier.deliver(message.peer_uri, body, headers=headers, chatbot=chatbot)
        if not result.ok:
            log.info(
                "%s receipt for %s not accepted: %s %s",
                status,
                message.message_id,
                result.status,
                result.reason,
            )
        return result
