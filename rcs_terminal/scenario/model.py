"""Scenario files: the strict schema of a scenario, and the values the runner executes.

A scenario file is YAML, read as strictly as a profile (:mod:`.yamlread`: no anchors,
aliases, merge keys or duplicate keys). It holds one
scenario (a mapping with ``name`` and ``steps``) or several::

    schema_version: 1
    suite: smoke                       # the JUnit testsuite name (default: the file's name)
    vars: {bot: "sip:demo@botplatform.lab"}
    scenarios:
      - id: demo-welcome               # default: made from the name
        name: The demo bot welcomes a first message with a card
        checks: UP 2.4 chatbot messaging, standalone pager mode, rich card rendering
        tags: [chatbot, card]
        lab: true                      # or false (the profiles' own network), or
                                       # {share: true, faults: [...], validity: N}
        handsets:
          alice: lab-alice             # a profile name or path, or a mapping:
          phone: {profile: demo, sims: [1, 2], displayed: auto}
        timeout: 10                    # default wait of each step, in seconds
        lint: {operator: cmcc, fail_on: error}
        steps: [...]                   # see :mod:`.step_models`

Everything is checked before anything runs: the schema (unknown keys get the closest valid
key), ``${var}`` references (:mod:`.variables`), the profiles the handsets name, and the
references between steps (a ``message:`` must name an ``as:`` given by an earlier step; a
step must name its handset when the scenario has several). Each problem is one
:class:`ScenarioIssue` naming the file, the scenario, the step number and kind, and the key
path; :func:`load_scenarios` raises one :class:`~rcs_terminal.errors.ScenarioError` with all
of them (the ``run`` command's exit code 2).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError, model_validator

from rcs_terminal.domain.profile import Profile, load_profile
from rcs_terminal.domain.profile_check import YamlProblem, describe_kind
from rcs_terminal.errors import ProfileError, ScenarioError
from rcs_terminal.scenario.expectations import Strict
from rcs_terminal.scenario.issues import ScenarioIssue, issues_from_validation, suggest
from rcs_terminal.scenario.step_models import SHORT_FORMS, STEP_MODELS, FaultSpec
from rcs_terminal.scenario.variables import Scalar, VariableError, substitute
from rcs_terminal.scenario.yamlread import read_scenario_yaml

__all__ = [
    "HandsetDef",
    "HandsetSpec",
    "LabSpec",
    "LintSpec",
    "ScenarioDef",
    "StepDef",
    "load_file",
    "load_scenarios",
    "parse_scenarios",
]

SCHEMA_VERSION = 1


# ----------------------------------------------------------------------------- schema


def _lab_shorthand(value: Any) -> Any:
    return {"enabled": value} if isinstance(value, bool) else value


def _handset_shorthand(value: Any) -> Any:
    return {"profile": value} if isinstance(value, str) else value


class LabSpec(Strict):
    """Whether and how the bundled lab runs for a scenario."""

    enabled: bool = True
    """Start the lab (false: the profiles' own network)."""
    share: bool = False
    """Reuse one lab for every sharing scenario of a worker (no faults allowed)."""
    faults: list[FaultSpec] = Field(default_factory=list)
    """Faults switched on before the first step."""
    validity: int | None = Field(default=None, ge=0)
    """``VERS/validity`` of the configurations the lab hands out."""

    @model_validator(mode="after")
    def _shared_clean(self) -> LabSpec:
        if self.share and self.faults:
            raise ValueError("a shared lab cannot have faults (give share: false)")
        if self.share and self.validity is not None:
            raise ValueError("a shared lab keeps its defaults (give share: false)")
        return self


class HandsetSpec(Strict):
    """One emulated handset of a scenario."""

    profile: str
    """A built-in profile name or a path (relative to the scenario file)."""
    sims: list[int] | None = None
    """The SIMs used (default: the profile's enabled ones)."""
    otp: str | None = None
    """A one-time password for provisioning (lab SIMs read theirs from the lab's SMS)."""
    accept_terms: bool | None = None
    """The answer to operator terms during provisioning."""
    displayed: Literal["manual", "auto", "never"] = "manual"
    """Displayed IMDNs: on ``mark_displayed`` steps, for every expected message, or never."""
    displayed_delay: float = Field(default=0.0, ge=0, le=60)
    """Seconds between seeing a message and reporting it displayed (``auto``)."""
    max_attempts: int | None = Field(default=4, ge=0)
    """Failed registration attempts in a row before a SIM gives up (0: once per P-CSCF)."""


class LintSpec(Strict):
    """Linting of every received payload."""

    operator: Literal["auto", "gsma", "cmcc", "cu", "ct"] = "auto"
    """The operator limits (``auto``: from the receiving SIM's MCC/MNC)."""
    fail_on: Literal["error", "warning", "never"] = "never"
    """Fail the scenario on findings of this severity (``never``: report only)."""


class ScenarioModel(Strict):
    """A scenario as written (steps are checked one by one afterwards)."""

    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
    name: str = Field(min_length=1, max_length=200)
    checks: str | None = None
    """The behaviour the scenario checks, in words (the report shows it)."""
    tags: list[str] = Field(default_factory=list)
    lab: Annotated[LabSpec, BeforeValidator(_lab_shorthand)] = LabSpec()
    handsets: dict[str, Annotated[HandsetSpec, BeforeValidator(_handset_shorthand)]] = Field(
        min_length=1
    )
    vars: dict[str, Scalar] = Field(default_factory=dict)
    timeout: float = Field(default=10.0, gt=0, le=600)
    lint: LintSpec = LintSpec()
    steps: list[Any] = Field(min_length=1)


class FileModel(Strict):
    """The top of a file with several scenarios."""

    schema_version: Literal[1] = 1
    suite: str | None = None
    vars: dict[str, Scalar] = Field(default_factory=dict)
    scenarios: list[Any] = Field(min_length=1)


# ----------------------------------------------------------------------------- values


@dataclass(frozen=True)
class StepDef:
    """One checked step.

    Attributes:
        index: the step number, from 1.
        kind: the step kind (``send``).
        args: its checked arguments.
        title: the ``name`` the file gave it, if any.
    """

    index: int
    kind: str
    args: Strict
    title: str | None = None


@dataclass(frozen=True)
class HandsetDef:
    """A handset of a scenario, with its loaded profile.

    Attributes:
        name: the name the scenario gives it.
        profile_ref: the profile as written (name or resolved path).
        profile: the loaded profile.
        spec: its settings.
    """

    name: str
    profile_ref: str
    profile: Profile = field(repr=False)
    spec: HandsetSpec

    @property
    def slots(self) -> tuple[int, ...]:
        """The SIM slots the scenario uses."""
        if self.spec.sims:
            return tuple(self.spec.sims)
        return tuple(sim.slot for sim in self.profile.enabled_sims)

    @property
    def default_slot(self) -> int:
        """The SIM used when a step names none."""
        default = self.profile.messaging.default_sim
        return default if default in self.slots else self.slots[0]


@dataclass(frozen=True)
class ScenarioDef:
    """A checked scenario, ready to run.

    Attributes:
        id: its identifier (unique in a run).
        name: its title.
        file: the file as the user named it.
        suite: the suite (JUnit testsuite) it belongs to.
        position: its position in the file, from 0.
        checks: the behaviour it checks.
        tags: its tags.
        lab: the lab settings.
        handsets: its handsets by name, in the file's order.
        timeout: the default wait of its steps.
        lint: payload linting.
        steps: its steps.
        base_dir: the folder relative paths are read from.
        variables: the command-line variables it was loaded with (workers reload with them).
    """

    id: str
    name: str
    file: str
    suite: str
    position: int
    checks: str | None
    tags: tuple[str, ...]
    lab: LabSpec
    handsets: Mapping[str, HandsetDef]
    timeout: float
    lint: LintSpec
    steps: tuple[StepDef, ...]
    base_dir: Path
    variables: Mapping[str, str] = field(default_factory=dict)


# ----------------------------------------------------------------------------- loading


def slug(text: str) -> str:
    """An identifier made from a scenario name."""
    made = re.sub(r"[^A-Za-z0-9]+", "-", text.lower()).strip("-")
    return made[:80] or "scenario"


def _identity_vars(name: str, profile: Profile) -> dict[str, Scalar]:
    out: dict[str, Scalar] = {}
    default = profile.messaging.default_sim
    for sim in profile.sims:
        sip = sim.ims.impu[0] if sim.ims is not None else f"sip:{sim.msisdn}@{sim.home_domain}"
        values: dict[str, Scalar] = {
            "tel": sim.tel_uri,
            "sip": sip,
            "msisdn": sim.msisdn,
            "imsi": sim.imsi,
            "domain": sim.home_domain,
        }
        for key, value in values.items():
            out[f"{name}.sim{sim.slot}.{key}"] = value
            if sim.slot == default or len(profile.sims) == 1:
                out[f"{name}.{key}"] = value
    return out


class _Loader:
    """Checks one file's scenarios, collecting every issue."""

    def __init__(self, file: str, base_dir: Path, cli_vars: Mapping[str, str]) -> None:
        self.file = file
        self.base_dir = base_dir
        self.cli_vars = dict(cli_vars)
        self.issues: list[ScenarioIssue] = []

    def issue(self, scenario: str | None, path: str, message: str, **where: Any) -> None:
        self.issues.append(ScenarioIssue(self.file, scenario, path=path, message=message, **where))

    def load(self, raw: Any) -> list[ScenarioDef]:
        if raw is None:
            self.issue(None, "", "the file is empty")
            return []
        if not isinstance(raw, dict):
            self.issue(None, "", f"expected a mapping at the top, got {describe_kind(raw)}")
            return []
        if "scenarios" in raw:
            try:
                top = FileModel.model_validate(raw)
            except ValidationError as exc:
                self.issues.extend(issues_from_validation(exc, FileModel, self.file))
                return []
            file_vars, suite, items = top.vars, top.suite, top.scenarios
        else:
            version = raw.get("schema_version", SCHEMA_VERSION)
            if version != SCHEMA_VERSION:
                self.issue(None, "schema_version", f"expected {SCHEMA_VERSION}")
                return []
            suite_value = raw.get("suite")
            suite = suite_value if isinstance(suite_value, str) else None
            file_vars = {}
            items = [{k: v for k, v in raw.items() if k not in ("schema_version", "suite")}]
        suite = suite or Path(self.file).stem
        out = []
        for position, item in enumerate(items):
            found = self.scenario(item, position, suite, file_vars)
            if found is not None:
                out.append(found)
        return out

    def scenario(
        self, raw: Any, position: int, suite: str, file_vars: Mapping[str, Scalar]
    ) -> ScenarioDef | None:
        label = f"#{position + 1}"
        prefix = f"scenarios[{position}]"
        if not isinstance(raw, dict):
            self.issue(label, "", f"expected a mapping, got {describe_kind(raw)}")
            return None
        if isinstance(raw.get("name"), str):
            label = raw["name"]
        variables: dict[str, Scalar] = dict(file_vars)
        own_vars = raw.get("vars")
        if isinstance(own_vars, dict):
            variables.update({k: v for k, v in own_vars.items() if isinstance(k, str)})
        variables.update(self.cli_vars)
        head = {k: v for k, v in raw.items() if k != "steps"}
        try:
            head = substitute(head, variables)
        except VariableError as exc:
            self.issue(label, exc.path, exc.message)
            return None
        head["steps"] = raw.get("steps")
        try:
            model = ScenarioModel.model_validate(head)
        except ValidationError as exc:
            self.issues.extend(
                issues_from_validation(exc, ScenarioModel, self.file, scenario=label)
            )
            return None
        del prefix
        handsets = self.handsets(label, model)
        if handsets is None:
            return None
        for handset in handsets.values():
            variables.update(_identity_vars(handset.name, handset.profile))
        variables.update(self.cli_vars)
        steps = self.steps(label, model, handsets, variables)
        if steps is None:
            return None
        self.check_lab(label, model, handsets)
        return ScenarioDef(
            id=model.id or slug(model.name),
            name=model.name,
            file=self.file,
            suite=suite,
            position=position,
            checks=model.checks,
            tags=tuple(model.tags),
            lab=model.lab,
            handsets=handsets,
            timeout=model.timeout,
            lint=model.lint,
            steps=tuple(steps),
            base_dir=self.base_dir,
            variables=dict(self.cli_vars),
        )

    def handsets(self, label: str, model: ScenarioModel) -> dict[str, HandsetDef] | None:
        out: dict[str, HandsetDef] = {}
        imsis: dict[str, str] = {}
        ok = True
        for name, spec in model.handsets.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
                self.issue(label, f"handsets.{name}", "handset names are letters, digits, _ and -")
                ok = False
                continue
            ref = spec.profile
            if "/" in ref or ref.endswith((".yaml", ".yml")):
                path = Path(ref)
                ref = str(path if path.is_absolute() else self.base_dir / path)
            try:
                profile = load_profile(ref)
            except ProfileError as exc:
                self.issue(label, f"handsets.{name}.profile", exc.message.replace("\n", "; "))
                ok = False
                continue
            slots = {sim.slot for sim in profile.sims}
            for slot in spec.sims or ():
                if slot not in slots:
                    self.issue(label, f"handsets.{name}.sims", f"the profile has no SIM {slot}")
                    ok = False
            for sim in profile.sims:
                other = imsis.get(sim.imsi)
                if other is not None:
                    self.issue(
                        label,
                        f"handsets.{name}",
                        f"uses the same SIM (IMSI) as handset {other!r}: one SIM, one handset",
                    )
                    ok = False
                imsis[sim.imsi] = name
            out[name] = HandsetDef(name, ref, profile, spec)
        return out if ok else None

    def steps(
        self,
        label: str,
        model: ScenarioModel,
        handsets: Mapping[str, HandsetDef],
        variables: Mapping[str, Scalar],
    ) -> list[StepDef] | None:
        out: list[StepDef] = []
        labels: dict[str, str] = {}
        before = len(self.issues)
        for number, raw in enumerate(model.steps, start=1):
            step = self.step(label, number, raw, variables)
            if step is None:
                continue
            self.check_refs(label, step, handsets, labels)
            out.append(step)
        return out if len(self.issues) == before else None

    def step(
        self, label: str, number: int, raw: Any, variables: Mapping[str, Scalar]
    ) -> StepDef | None:
        if not isinstance(raw, dict):
            self.issue(label, "", f"expected a mapping, got {describe_kind(raw)}", step=number)
            return None
        title = raw.get("name")
        kinds = [k for k in raw if k != "name"]
        if title is not None and not isinstance(title, str):
            self.issue(label, "name", "expected a string", step=number)
            return None
        if len(kinds) != 1:
            if not kinds:
                message = f"no step kind (one of: {', '.join(STEP_MODELS)})"
            else:
                message = f"one step kind per step, got {', '.join(map(str, kinds))}"
            self.issue(label, "", message, step=number)
            return None
        kind = kinds[0]
        model = STEP_MODELS.get(kind)
        if model is None:
            guess = suggest(str(kind), list(STEP_MODELS))
            hint = f" (did you mean {guess!r}?)" if guess else ""
            self.issue(label, str(kind), f"unknown step kind{hint}", step=number)
            return None
        try:
            args = substitute(raw[kind], variables, kind)
        except VariableError as exc:
            self.issue(label, exc.path, exc.message, step=number, kind=kind)
            return None
        if args is None:
            args = {}
        if isinstance(args, str | int) and kind in SHORT_FORMS:
            args = {SHORT_FORMS[kind]: args}
        try:
            checked = model.model_validate(args)
        except ValidationError as exc:
            self.issues.extend(
                issues_from_validation(
                    exc, model, self.file, scenario=label, step=number, kind=kind, prefix=kind
                )
            )
            return None
        return StepDef(number, kind, checked, title)

    def check_refs(
        self,
        label: str,
        step: StepDef,
        handsets: Mapping[str, HandsetDef],
        labels: dict[str, str],
    ) -> None:
        args = step.args

        def bad(path: str, message: str) -> None:
            self.issue(label, f"{step.kind}.{path}", message, step=step.index, kind=step.kind)

        name = getattr(args, "handset", None)
        if step.kind != "lab":
            if name is None and len(handsets) > 1:
                bad("handset", f"required when the scenario has several ({', '.join(handsets)})")
                return
            if name is not None and name not in handsets:
                guess = suggest(name, list(handsets))
                bad(
                    "handset",
                    f"no handset {name!r}" + (f" (did you mean {guess!r}?)" if guess else ""),
                )
                return
            handset = handsets[name] if name is not None else next(iter(handsets.values()))
            sims = [getattr(args, "sim", None), *(getattr(args, "sims", None) or [])]
            for slot in sims:
                if slot is not None and slot not in handset.slots:
                    bad("sim", f"handset {handset.name!r} does not use SIM {slot}")
        kind = step.kind
        wanted: str | None = getattr(args, "message", None)
        if kind == "expect_state" and wanted is not None and labels.get(wanted) != "sent":
            bad("message", f"no earlier send or tap with as: {wanted}")
        elif (
            kind in ("tap", "mark_displayed")
            and wanted is not None
            and labels.get(wanted) != "received"
        ):
            bad("message", f"no earlier expect_message with as: {wanted}")
        given = getattr(args, "label", None)
        if given is not None:
            labels[given] = "received" if kind == "expect_message" else "sent"
        if kind == "lab":
            for sub in (getattr(args, "fault", None), getattr(args, "reg_event", None)):
                ref = getattr(sub, "handset", None) if sub is not None else None
                if ref is not None and ref not in handsets:
                    bad("handset", f"no handset {ref!r}")

    def check_lab(
        self, label: str, model: ScenarioModel, handsets: Mapping[str, HandsetDef]
    ) -> None:
        for index, fault in enumerate(model.lab.faults):
            if fault.handset is not None and fault.handset not in handsets:
                self.issue(label, f"lab.faults[{index}].handset", f"no handset {fault.handset!r}")
        if not model.lab.enabled:
            for number, raw in enumerate(model.steps, start=1):
                if isinstance(raw, dict) and "lab" in raw:
                    self.issue(label, "lab", "the scenario runs without the lab", step=number)


def parse_scenarios(
    text: str | bytes,
    *,
    file: str = "<scenario>",
    base_dir: Path | None = None,
    variables: Mapping[str, str] | None = None,
) -> list[ScenarioDef]:
    """Check scenario text and return its scenarios.

    Args:
        text: the YAML text.
        file: how to name the file in messages.
        base_dir: where relative paths (profiles, files to send) are read from.
        variables: command-line variables (``--var``), stronger than the file's.

    Raises:
        ScenarioError: anything is wrong; the message lists every problem found.
    """
    loader = _Loader(file, base_dir or Path.cwd(), variables or {})
    try:
        raw = read_scenario_yaml(text)
    except YamlProblem as exc:
        where = f"line {exc.line}" if exc.line is not None else ""
        _raise([ScenarioIssue(file, None, path=where, message=exc.message)])
    found = loader.load(raw)
    if loader.issues:
        _raise(loader.issues)
    return found


def load_file(path: str | Path, variables: Mapping[str, str] | None = None) -> list[ScenarioDef]:
    """Read and check one scenario file.

    Raises:
        ScenarioError: the file cannot be read or is invalid.
    """
    target = Path(path)
    try:
        data = target.read_bytes()
    except OSError as exc:
        reason = "file not found" if isinstance(exc, FileNotFoundError) else "cannot be read"
        _raise([ScenarioIssue(str(path), None, path="", message=reason)])
    return parse_scenarios(
        data, file=str(path), base_dir=target.resolve().parent, variables=variables
    )


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """The scenario files named by ``paths``: files as given, folders searched recursively
    for ``*.yaml`` / ``*.yml`` (sorted, hidden and ``_``-prefixed names skipped)."""
    out: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found = [
                p
                for p in sorted(path.rglob("*"))
                if p.suffix in (".yaml", ".yml")
                and p.is_file()
                and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
            ]
            out.extend(found)
        else:
            out.append(path)
    return out


def load_scenarios(
    paths: Sequence[str | Path], variables: Mapping[str, str] | None = None
) -> list[ScenarioDef]:
    """Read and check every scenario of ``paths`` (files or folders); ids must be unique.

    Raises:
        ScenarioError: any file is invalid (every problem of every file is listed), or two
            scenarios share an id.
    """
    issues: list[ScenarioIssue] = []
    found: list[ScenarioDef] = []
    files = scenario_files(paths)
    if not files:
        _raise([ScenarioIssue("<arguments>", None, path="", message="no scenario files found")])
    for file in files:
        try:
            found.extend(load_file(file, variables))
        except ScenarioError as exc:
            issues.extend(getattr(exc, "issues", []))
    seen: dict[str, ScenarioDef] = {}
    for scenario in found:
        other = seen.get(scenario.id)
        if other is not None:
            issues.append(
                ScenarioIssue(
                    scenario.file,
                    scenario.name,
                    path="id",
                    message=f"id {scenario.id!r} is also used in {other.file} ({other.name!r})",
                )
            )
        seen[scenario.id] = scenario
    if issues:
        _raise(issues)
    return found


def _raise(issues: list[ScenarioIssue]) -> Any:
    lines = [str(issue) for issue in issues]
    shown = lines[:50] + ([f"... and {len(lines) - 50} more"] if len(lines) > 50 else [])
    error = ScenarioError(
        "\n".join(shown),
        hint="The step kinds and their keys are described in rcs_terminal/scenario/"
        "step_models.py; `rcs-terminal run --help` lists the options.",
    )
    error.issues = issues  # type: ignore[attr-defined]
    raise error
