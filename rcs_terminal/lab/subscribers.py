"""The lab's subscriber register (its HSS, in effect).

The lab serves the SIMs of the profiles that point at it (``provisioning: {url: lab}``): the
built-in ``demo`` and ``lab-*`` profiles, plus any profile given to ``rcs-terminal lab``. From
each such SIM it derives what a home network knows about a subscriber: the IMSI and MSISDN, the
IMS identities (IMPI ``<IMSI>@<home domain>`` for AKA, the profile's user name for digest;
IMPUs ``sip:+86...@<home domain>`` and ``tel:+86...``), and the credentials (K/OPc for AKA, with
the network's own SQN counter; the digest password). The config server, the registrar and the
chatbot platform all look subscribers up here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from rcs_terminal.domain import sim as ids
from rcs_terminal.domain.profile import (
    LAB,
    AkaAuth,
    Profile,
    builtin_profile_names,
    load_profile,
)
from rcs_terminal.errors import ProfileError


@dataclass
class LabSubscriber:
    """One lab SIM as the network knows it. ``sqn`` is the network's AKA sequence number."""

    profile: str
    slot: int
    imsi: str
    msisdn: str
    imei: str
    home_domain: str
    impi: str
    auth_type: str  # "AKA" or "Digest"
    k: bytes | None = field(default=None, repr=False)
    opc: bytes | None = field(default=None, repr=False)
    amf: bytes = b"\x80\x00"
    password: str | None = field(default=None, repr=False)
    sqn: int = 0x20
    display_name: str = ""

    @property
    def sip_impu(self) -> str:
        """The default public identity: ``sip:<MSISDN>@<home domain>``."""
        return f"sip:{self.msisdn}@{self.home_domain}"

    @property
    def tel_impu(self) -> str:
        """The ``tel:`` public identity."""
        return ids.tel_uri(self.msisdn)

    @property
    def impus(self) -> tuple[str, str]:
        """Both public identities, the default first (P-Associated-URI order)."""
        return (self.sip_impu, self.tel_impu)


def subscribers_of(profile: Profile) -> list[LabSubscriber]:
    """The lab subscribers of ``profile``: its SIMs that provision from the lab."""
    found: list[LabSubscriber] = []
    for sim in profile.sims:
        if sim.provisioning is None or sim.provisioning.url != LAB:
            continue
        home = ids.home_network_domain(sim.operator.mcc, sim.operator.mnc)
        sub = LabSubscriber(
            profile=profile.name or "?",
            slot=sim.slot,
            imsi=sim.imsi,
            msisdn=sim.msisdn,
            imei=sim.imei,
            home_domain=home,
            impi=ids.default_impi(sim.imsi, sim.operator.mcc, sim.operator.mnc),
            auth_type="Digest",
            display_name=f"{profile.name} SIM {sim.slot}",
        )
        auth = sim.auth
        if isinstance(auth, AkaAuth):
            sub.auth_type = "AKA"
            sub.k = auth.k.reveal_bytes()
            if auth.opc is not None:
                sub.opc = auth.opc.reveal_bytes()
            elif auth.op is not None:
                from rcs_terminal.protocol.sip.milenage import compute_opc

                sub.opc = compute_opc(sub.k, auth.op.reveal_bytes())
            sub.amf = bytes.fromhex(auth.amf)
            sub.sqn = max(int(auth.sqn, 16), 0x20)
        else:
            if auth.password is None:
                raise ProfileError(
                    f"{profile.name} SIM {sim.slot}: a lab digest SIM needs auth.password"
                )
            sub.password = auth.password.reveal()
            if auth.username:
                sub.impi = auth.username
        found.append(sub)
    return found


class SubscriberDirectory:
    """Lookup of lab subscribers by IMSI, IMPI, IMPU (sip or tel) and MSISDN."""

    def __init__(self, subscribers: Iterable[LabSubscriber] = ()) -> None:
        self._all: list[LabSubscriber] = []
        self._index: dict[str, LabSubscriber] = {}
        for sub in subscribers:
            self.add(sub)

    def add(self, sub: LabSubscriber) -> None:
        """Register ``sub`` (a clash on IMSI, IMPI or MSISDN is a profile error)."""
        keys = [f"imsi:{sub.imsi}", f"impi:{sub.impi.lower()}", f"msisdn:{sub.msisdn}"]
        for key in keys:
            other = self._index.get(key)
            if other is not None and other is not sub:
                raise ProfileError(
                    f"lab subscribers {other.display_name} and {sub.display_name} share {key}"
                )
        self._all.append(sub)
        for key in keys:
            self._index[key] = sub

    def __iter__(self) -> Iterator[LabSubscriber]:
        return iter(list(self._all))

    def __len__(self) -> int:
        return len(self._all)

    def by_imsi(self, imsi: str) -> LabSubscriber | None:
        return self._index.get(f"imsi:{imsi}")

    def by_impi(self, impi: str) -> LabSubscriber | None:
        return self._index.get(f"impi:{impi.lower()}")

    def by_msisdn(self, msisdn: str) -> LabSubscriber | None:
        digits = "".join(ch for ch in msisdn if ch.isdigit())
        return self._index.get(f"msisdn:+{digits}")

    def by_uri(self, uri: str) -> LabSubscriber | None:
        """Find the subscriber owning a public identity (``sip:+86..@dom``, ``tel:+86..``,
        ``sip:<IMSI>@dom`` temporary IMPU)."""
        text = uri.strip().strip("<>")
        scheme, _, rest = text.partition(":")
        scheme = scheme.lower()
        if scheme == "tel":
            return self.by_msisdn(rest.split(";", 1)[0])
        if scheme in ("sip", "sips"):
            user = rest.split("@", 1)[0].split(";", 1)[0]
            if user.startswith("+"):
                return self.by_msisdn(user)
            return self.by_imsi(user) or self.by_impi(rest.split(";", 1)[0])
        return None


def default_directory(extra_profiles: Iterable[str] = ()) -> SubscriberDirectory:
    """Subscribers of every built-in profile that uses the lab, plus ``extra_profiles``."""
    directory = SubscriberDirectory()
    names = list(dict.fromkeys([*builtin_profile_names(), *extra_profiles]))
    for name in names:
        try:
            profile = load_profile(name)
        except ProfileError:
            if name in extra_profiles:
                raise
            continue  # a built-in profile whose env: secrets are not set is not a lab profile
        for sub in subscribers_of(profile):
            directory.add(sub)
    return directory
