"""What a received configuration does to the stored state: the RCC.14 version rules.

Every configuration carries ``VERS/version`` and ``VERS/validity`` (RCC.14 §2.3.3;
provisioning_sip.md §2, where rcsjta, Samsung and rust-rcs-client agree):

=========  ==================================================================================
version    effect
=========  ==================================================================================
> 0        apply it, or keep the stored data when it equals the stored version; refresh when
           ``validity`` runs out; terms with buttons are answered before it is committed
0          reset: drop the configuration, keep the token; try again after a while
-1         reset and disable: drop the configuration; ask nothing until the user opts in
-2         disable: keep the configuration, RCS off; ask nothing until the user opts in
-3         dormant: keep the configuration, RCS off; poll every ``validity`` seconds with
           the last positive version
=========  ==================================================================================

A ``TOKEN`` in any configuration replaces the stored token (an empty one clears it).
This module is a pure function of (stored state, configuration, now): the flow calls it and
acts on the :class:`Applied` it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rcs_terminal.protocol.provisioning.config import RcsConfig
from rcs_terminal.protocol.provisioning.events import Disabled, Done, Failed
from rcs_terminal.protocol.provisioning.state import RetryPolicy, StoredState

DISABLED_REASONS = {
    -1: "the server reset and disabled RCS (version -1)",
    -2: "the server disabled RCS (version -2)",
    -3: "the server made RCS dormant (version -3)",
}


@dataclass(frozen=True, slots=True)
class Applied:
    """The effect of one configuration.

    Attributes:
        stored: the state to persist now.
        config: the configuration in use afterwards.
        result: how the run ends, or None when ``pending`` terms must be answered first or
            the version is unknown (``pending`` None: treat as a bad answer).
        pending: the state to commit once the user accepts the terms.
    """

    stored: StoredState
    config: RcsConfig | None
    result: Done | Failed | Disabled | None
    pending: StoredState | None = None


def apply_config(
    old: StoredState,
    current: RcsConfig | None,
    config: RcsConfig,
    body: bytes,
    now: float,
    policy: RetryPolicy,
) -> Applied:
    """Work out what ``config`` (whose document is ``body``) changes.

    Args:
        old: the stored state before it.
        current: the configuration in use before it, if any.
        config: the configuration received.
        body: its document, stored when it becomes the one in use.
        now: when it arrived.
        policy: gives the wait after a reset and the dormant poll when validity is 0.
    """
    base = old
    if config.token is not None:
        lifetime = config.token_validity
        until = now + lifetime if lifetime is not None and lifetime > 0 else None
        base = replace(old, token=config.token or None, token_until=until)
    version = config.version
    if version > 0:
        same = version == old.version and current is not None
        applied = current if same and current is not None else config
        new = replace(
            base,
            version=version,
            validity_until=now + config.validity if config.validity > 0 else None,
            config_xml=old.config_xml if same else body,
            last_positive_version=version,
        )
        if not same and config.msg is not None and config.msg.needs_answer:
            return Applied(base, current, None, pending=new)
        return Applied(new, applied, Done(applied, new.validity_until))
    if version == 0:
        stored = replace(base, version=0, validity_until=None, config_xml=None)
        retry_at = now + policy.reset_retry_delay
        return Applied(
            stored, None, Failed("the server reset the configuration (version 0)", retry_at, 200)
        )
    if version == -1:
        stored = replace(base, version=-1, validity_until=None, config_xml=None)
        return Applied(stored, None, Disabled(DISABLED_REASONS[-1], -1))
    if version == -2:
        stored = replace(base, version=-2, validity_until=None)
        return Applied(stored, current, Disabled(DISABLED_REASONS[-2], -2, None, current))
    if version == -3:
        poll_at = now + (config.validity if config.validity > 0 else policy.reset_retry_delay)
        stored = replace(base, version=-3, validity_until=poll_at)
        return Applied(stored, current, Disabled(DISABLED_REASONS[-3], -3, poll_at, current))
    return Applied(base, current, None)
