"""Who is asking for a configuration: a device profile seen as RCC.14 request values.

The provisioning core (:mod:`rcs_terminal.protocol.provisioning.request`) knows nothing of
profiles; it takes a :class:`DeviceIdentity` (the handset and its client: ``terminal_*``,
``client_*``, ``rcs_version``, ``rcs_profile``, ``provisioning_version``, User-Agent,
Accept-Language) and a :class:`SimIdentity` per SIM (``IMSI``, the slot's ``IMEI``,
``msisdn``, ``SMS_port``, ``default_sms_app``). This module is the one mapping from the
profile model to those values (GSMA RCC.14 §2.3; provisioning_sip.md §1 and §6: each SIM
sends its own slot's IMEI).
"""

from __future__ import annotations

from rcs_terminal.domain.profile import Profile, Provisioning, Sim
from rcs_terminal.protocol.provisioning import DeviceIdentity, SimIdentity


def device_identity(profile: Profile) -> DeviceIdentity:
    """The handset and its RCS client, as named in configuration requests."""
    device = profile.device
    return DeviceIdentity(
        terminal_vendor=device.vendor,
        terminal_model=device.model,
        terminal_sw_version=device.sw_version,
        client_vendor=device.client.vendor,
        client_version=device.client.version,
        rcs_version=device.rcs.version,
        rcs_profile=device.rcs.profile,
        provisioning_version=device.rcs.provisioning_version,
        user_agent=profile.user_agent,
        accept_language=device.language,
    )


def sim_identity(profile: Profile, sim: Sim) -> SimIdentity:
    """One SIM and its slot, as named in configuration requests."""
    settings = sim.provisioning or Provisioning()
    return SimIdentity(
        imsi=sim.imsi,
        imei=sim.imei,
        msisdn=sim.msisdn,
        sms_port=settings.sms_port,
        default_sms_app=profile.messaging.default_sms_app,
    )
