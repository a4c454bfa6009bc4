"""Device profiles: finding, loading and checking them, and the built-in set.

This is the module the rest of the program uses (``load_profile("zte-axon30-dual")``). The
models are in :mod:`rcs_terminal.domain.profile_schema`, strict reading and error messages
in :mod:`rcs_terminal.domain.profile_check`; both are re-exported here.

Loading is strict because a profile drives real traffic: the file is capped in size, read
as UTF-8 YAML without anchors, aliases, merge keys or duplicate keys, then validated by the
pydantic models. Every problem of a file is collected, each naming the file, the key path
(``sims[1].auth.k``) and what was expected, with the closest valid key for a typo.
``env:`` secrets are resolved at load time; ``resolve_env=False`` keeps references to unset
variables and reports them as warnings (``profile validate``).

Built-in profiles are found with :mod:`importlib.resources` in ``rcs_terminal/_profiles``
(where the wheel puts the repository's ``profiles/`` folder), else in the repository's
``profiles/`` folder (editable installs and the source tree).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rcs_terminal.domain.profile_check import (
    MAX_PROFILE_BYTES,
    ProfileIssue,
    YamlProblem,
    describe_kind,
    issues_from_validation,
    profile_warnings,
    read_yaml,
)
from rcs_terminal.domain.profile_schema import (
    SCHEMA_VERSION,
    AkaAuth,
    ClientInfo,
    Device,
    DigestAuth,
    ImsAuth,
    ImsSettings,
    Messaging,
    Operator,
    OsInfo,
    Profile,
    Provisioning,
    RcsInfo,
    Sim,
)
from rcs_terminal.domain.profile_types import LAB
from rcs_terminal.domain.secrets import Key128, Secret
from rcs_terminal.errors import ProfileError

__all__ = [
    "LAB",
    "MAX_PROFILE_BYTES",
    "SCHEMA_VERSION",
    "AkaAuth",
    "ClientInfo",
    "Device",
    "DigestAuth",
    "ImsAuth",
    "ImsSettings",
    "Key128",
    "Messaging",
    "Operator",
    "OsInfo",
    "Profile",
    "ProfileCheck",
    "ProfileIssue",
    "ProfileSummary",
    "Provisioning",
    "RcsInfo",
    "Secret",
    "Sim",
    "SimSummary",
    "builtin_profile_dir",
    "builtin_profile_names",
    "builtin_profiles",
    "check_profile",
    "check_profile_data",
    "derived_identities",
    "dump_profile",
    "load_profile",
    "profile_json_schema",
    "summarize",
]

_HINT = "The fields are described in profiles/README.md; `rcs-terminal profile schema` prints them."


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ProfileCheck:
    """The outcome of checking one profile file.

    Attributes:
        file: the file as the user named it.
        profile: the validated profile, or ``None`` when there are errors.
        errors: the problems that make the profile unusable.
        warnings: things that work now but may not later (unset ``env:`` variables...).
        hint: what to do about the errors, when there is better advice than the docs.
    """

    file: str
    profile: Profile | None
    errors: tuple[ProfileIssue, ...] = ()
    warnings: tuple[ProfileIssue, ...] = ()
    hint: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the profile is valid."""
        return not self.errors

    def raise_for_errors(self) -> Profile:
        """Return the profile, or raise :class:`ProfileError` listing every error."""
        if self.profile is None or self.errors:
            lines = "\n".join(str(issue) for issue in self.errors)
            raise ProfileError(lines or f"{self.file}: invalid profile", hint=self.hint or _HINT)
        return self.profile


@dataclass(frozen=True)
class SimSummary:
    """A SIM as listed by ``profile list``."""

    slot: int
    operator: str
    mcc: str
    mnc: str
    msisdn: str
    auth: str
    provisioning: str
    enabled: bool = True


@dataclass(frozen=True)
class ProfileSummary:
    """A profile as listed by ``profile list``."""

    name: str
    description: str
    vendor: str
    model: str
    sims: tuple[SimSummary, ...] = field(default_factory=tuple)

    @property
    def handset(self) -> str:
        """``"<vendor> <model>"``."""
        return f"{self.vendor} {self.model}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``profile list --json``)."""
        return {
            "name": self.name,
            "description": self.description,
            "handset": self.handset,
            "vendor": self.vendor,
            "model": self.model,
            "sims": [vars(sim).copy() for sim in self.sims],
        }


# ----------------------------------------------------------------------------- loading


def check_profile_data(
    data: bytes | str,
    *,
    file: str = "<profile>",
    name: str | None = None,
    source: str | None = None,
    resolve_env: bool = True,
    environ: Mapping[str, str] | None = None,
) -> ProfileCheck:
    """Check profile text and return every problem found (never raises for bad input).

    Args:
        data: the file's bytes (or text).
        file: how to name the file in messages.
        name: the profile's name, recorded on the profile.
        source: the file's path, recorded on the profile (relative paths inside the
            profile, such as ``ca_file``, are relative to it).
        resolve_env: when false, ``env:`` references to unset variables are kept
            unresolved and reported as warnings instead of errors.
        environ: the environment to resolve ``env:`` references in (default ``os.environ``).
    """
    try:
        raw = read_yaml(data)
    except YamlProblem as exc:
        path = f"line {exc.line}" if exc.line is not None else ""
        return ProfileCheck(file, None, (ProfileIssue(file, path, exc.message),))
    if raw is None:
        return ProfileCheck(file, None, (ProfileIssue(file, "", "the file is empty"),))
    if not isinstance(raw, dict):
        message = f"expected a mapping of keys to values at the top, got {describe_kind(raw)}"
        return ProfileCheck(file, None, (ProfileIssue(file, "", message),))
    context = {
        "environ": os.environ if environ is None else environ,
        "missing_env": "error" if resolve_env else "keep",
    }
    try:
        profile = Profile.model_validate(raw, context=context)
    except ValidationError as exc:
        return ProfileCheck(file, None, tuple(issues_from_validation(exc, file)))
    profile.with_origin(name, source)
    return ProfileCheck(file, profile, (), tuple(profile_warnings(profile, file)))


def builtin_profile_dir() -> Traversable:
    """The folder of built-in profiles: packaged ``_profiles``, else the repository's."""
    packaged = resources.files("rcs_terminal") / "_profiles"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "profiles"


def builtin_profile_names() -> list[str]:
    """The names of the built-in profiles, sorted."""
    folder = builtin_profile_dir()
    if not folder.is_dir():
        return []
    return sorted(
        entry.name[: -len(".yaml")]
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
        and not entry.name.startswith(("_", "."))
        and entry.is_file()
    )


def _is_path(name_or_path: str) -> bool:
    return (
        "/" in name_or_path
        or os.sep in name_or_path
        or name_or_path.endswith((".yaml", ".yml"))
        or name_or_path.startswith(".")
    )


def check_profile(
    name_or_path: str,
    *,
    resolve_env: bool = True,
    environ: Mapping[str, str] | None = None,
) -> ProfileCheck:
    """Find a profile by built-in name or path, read it and check it.

    Args:
        name_or_path: a built-in name (``zte-axon30-dual``) or a path to a YAML file.
        resolve_env: see :func:`check_profile_data`.
        environ: see :func:`check_profile_data`.
    """
    source: Traversable
    if _is_path(name_or_path):
        file, source, name = name_or_path, Path(name_or_path), Path(name_or_path).stem
    else:
        file, name = f"{name_or_path}.yaml", name_or_path
        source = builtin_profile_dir() / file
        if not source.is_file():
            known = builtin_profile_names()
            close = difflib.get_close_matches(name_or_path, known, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            message = f"there is no built-in profile named {name_or_path!r}{hint}"
            advice = f"Built-in profiles: {', '.join(known)}. Or give the path of a YAML file."
            return ProfileCheck(file, None, (ProfileIssue(file, "", message),), hint=advice)
    try:
        if not source.is_file():
            raise FileNotFoundError(name_or_path)
        with source.open("rb") as stream:
            data = stream.read(MAX_PROFILE_BYTES + 1)
    except OSError as exc:
        reason = "file not found" if isinstance(exc, FileNotFoundError) else "cannot be read"
        return ProfileCheck(file, None, (ProfileIssue(file, "", reason),))
    return check_profile_data(
        data, file=file, name=name, source=str(source), resolve_env=resolve_env, environ=environ
    )


def load_profile(
    name_or_path: str,
    *,
    resolve_env: bool = True,
    environ: Mapping[str, str] | None = None,
) -> Profile:
    """Load a profile by built-in name or path.

    Args:
        name_or_path: a built-in name (``demo``, ``lab-alice``) or a path to a YAML file.
        resolve_env: resolve ``env:`` secrets now; a missing variable is an error. When
            false, references to unset variables stay unresolved (their
            :meth:`~rcs_terminal.domain.secrets.Secret.reveal` raises).
        environ: the environment to read (default ``os.environ``).

    Raises:
        ProfileError: the profile is missing or invalid; the message lists every problem.
    """
    return check_profile(name_or_path, resolve_env=resolve_env, environ=environ).raise_for_errors()


def summarize(profile: Profile, name: str | None = None) -> ProfileSummary:
    """Summarise a profile for listings."""
    sims = []
    for sim in profile.sims:
        if sim.ims is not None:
            provisioning = "static IMS"
        elif sim.provisioning is not None and sim.provisioning.url is not None:
            provisioning = sim.provisioning.url
        else:
            provisioning = sim.config_server_fqdn
        sims.append(
            SimSummary(
                slot=sim.slot,
                operator=sim.operator.name,
                mcc=sim.operator.mcc,
                mnc=sim.operator.mnc,
                msisdn=sim.msisdn,
                auth=sim.auth.scheme,
                provisioning=provisioning,
                enabled=sim.enabled,
            )
        )
    return ProfileSummary(
        name=name or profile.name or "",
        description=profile.description or "",
        vendor=profile.device.vendor,
        model=profile.device.model,
        sims=tuple(sims),
    )


def builtin_profiles() -> list[ProfileSummary]:
    """Summaries of the built-in profiles, sorted by name (``env:`` secrets not needed).

    Raises:
        ProfileError: a shipped profile is invalid (a packaging bug).
    """
    summaries = []
    for name in builtin_profile_names():
        profile = check_profile(name, resolve_env=False).raise_for_errors()
        summaries.append(summarize(profile, name))
    return summaries


def dump_profile(profile: Profile, *, reveal_secrets: bool = False) -> str:
    """Write a profile back as YAML.

    Args:
        profile: the profile.
        reveal_secrets: write inline secrets in clear (to save a profile); by default they
            are written as ``***``. ``env:`` secrets are always written as references.
    """
    data = profile.model_dump(
        mode="json", exclude_none=True, context={"reveal_secrets": reveal_secrets}
    )
    dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)


def derived_identities(profile: Profile) -> dict[str, Any]:
    """What the emulator will send, derived from a profile (``profile show --derived``).

    Returns:
        The User-Agent, and per SIM: home domain, IMPI, IMPU, ``+sip.instance``, the
        configuration server and the operator recognised from MCC/MNC.
    """
    sims = []
    for sim in profile.sims:
        if sim.ims is not None:
            server = "static IMS settings"
        elif sim.provisioning is not None and sim.provisioning.url is not None:
            server = sim.provisioning.url
        else:
            server = sim.provisioning_url()
        known = sim.known_operator
        sims.append(
            {
                "slot": sim.slot,
                "operator": known.code if known else "unknown",
                "home_domain": sim.home_domain,
                "impi": sim.impi,
                "impu": sim.impu,
                "tel_uri": sim.tel_uri,
                "sip_instance": sim.sip_instance,
                "config_server": server,
            }
        )
    return {"user_agent": profile.user_agent, "sims": sims}


def profile_json_schema() -> dict[str, Any]:
    """The JSON Schema of profiles (draft 2020-12), for editors and ``profile schema``."""
    schema = _plain_descriptions(Profile.model_json_schema(mode="validation"))
    schema["title"] = "rcs-terminal device profile"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _plain_descriptions(node: Any) -> Any:
    """Turn reST literals (````x````) in descriptions into Markdown ones (```x```)."""
    if isinstance(node, dict):
        return {
            key: value.replace("``", "`")
            if key == "description" and isinstance(value, str)
            else _plain_descriptions(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_plain_descriptions(item) for item in node]
    return node
