"""The profile schema: documented fields, JSON Schema export, README coverage."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from rcs_terminal.domain import profile_schema
from rcs_terminal.domain.profile import check_profile_data, profile_json_schema
from rcs_terminal.domain.profile_types import (
    Domain,
    HostPort,
    Language,
    ProvisioningUrl,
    PublicUri,
    Text,
    Token,
)

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "profiles" / "README.md").read_text(encoding="utf-8")
K = "465b5ce8b199b49faa5f0a2ee238a6bc"


def models() -> list[type[BaseModel]]:
    return [
        value
        for value in vars(profile_schema).values()
        if isinstance(value, type)
        and issubclass(value, profile_schema._Model)
        and value is not profile_schema._Model
    ]


def test_every_model_and_field_is_documented() -> None:
    assert len(models()) >= 13
    for model in models():
        assert model.__doc__ and model.__doc__.strip(), model
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no docstring"


def test_every_field_is_in_the_readme() -> None:
    for model in models():
        for name in model.model_fields:
            assert re.search(rf"`([a-z_]+\.)*{name}(\.[a-z_]+)*`", README), f"{name} not in README"


def test_readme_example_is_valid() -> None:
    block = README.split("```yaml\n", 1)[1].split("```", 1)[0]
    check = check_profile_data(block, environ={"MY_SIM_K": K, "MY_SIM_OPC": K, "BOB_PASSWORD": "x"})
    assert check.ok, check.errors


def walk(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(walk(value))
    return found


def test_json_schema() -> None:
    schema = profile_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "rcs-terminal device profile"
    assert schema["required"] == ["schema_version", "device", "sims"]
    assert schema["properties"]["schema_version"]["const"] == 1
    assert schema["properties"]["sims"]["minItems"] == 1
    assert schema["properties"]["sims"]["maxItems"] == 2
    objects = [node for node in walk(schema) if node.get("type") == "object"]
    assert len(objects) >= 13
    for node in objects:
        assert node["additionalProperties"] is False
        for name, prop in node["properties"].items():
            assert prop.get("description"), name
            assert "``" not in prop["description"]
    sim = schema["$defs"]["Sim"]["properties"]
    assert sim["imei"]["pattern"] == "^[0-9]{15}$"
    assert "env:" in json.dumps(schema["$defs"]["AkaAuth"]["properties"]["k"])
    json.dumps(schema)  # serialisable


def test_committed_schema_file_is_current() -> None:
    path = REPO / "scripts" / "export_profile_schema.py"
    spec = importlib.util.spec_from_file_location("export_profile_schema", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (REPO / "profiles" / "profile.schema.json").read_text(encoding="utf-8")
    assert committed == module.render_schema(), "run scripts/export_profile_schema.py"


def test_export_script_writes_a_file(tmp_path: Path) -> None:
    path = REPO / "scripts" / "export_profile_schema.py"
    spec = importlib.util.spec_from_file_location("export_profile_schema", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    output = tmp_path / "schema.json"
    assert module.main([str(output)]) == 0
    assert json.loads(output.read_text(encoding="utf-8")) == profile_json_schema()
    assert module.main(["a", "b"]) == 2


def test_builtin_files_point_editors_at_the_schema() -> None:
    for path in sorted((REPO / "profiles").glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=profile.schema.json", path.name
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["schema_version"] == 1


@pytest.mark.parametrize(
    ("kind", "value", "ok"),
    [
        (HostPort, "127.0.0.1:5060", True),
        (HostPort, "[::1]", True),
        (HostPort, "[::1]:5061", True),
        (HostPort, "pcscf.rcs.test", True),
        (HostPort, "host:0", False),
        (HostPort, "host:70000", False),
        (HostPort, "[zz]:1", False),
        (HostPort, "host:", False),
        (HostPort, ":5060", False),
        (HostPort, "a b:1", False),
        (PublicUri, "sip:+8613800000001@rcs.test", True),
        (PublicUri, "tel:+8613800000001", True),
        (PublicUri, "tel:13800000001", False),
        (PublicUri, "mailto:a@b", False),
        (ProvisioningUrl, "lab", True),
        (ProvisioningUrl, "http://127.0.0.1:8080/config", True),
        (ProvisioningUrl, "https://config.rcs.test", True),
        (ProvisioningUrl, "ftp://config.rcs.test", False),
        (ProvisioningUrl, "https://user:pw@config.rcs.test", False),
        (ProvisioningUrl, "https://config.rcs.test:99999", False),
        (ProvisioningUrl, "https://", False),
        (Domain, "ims.mnc000.mcc460.3gppnetwork.org", True),
        (Domain, "bad_domain", False),
        (Language, "zh-CN", True),
        (Language, "chinese!", False),
        (Text, "Axon 30", True),
        (Text, "   ", False),
        (Text, "line\r\nInjected: header", False),
        (Text, "x" * 257, False),
        (Token, "RCSAndrd-2.4", True),
        (Token, "two words", False),
    ],
)
def test_value_types(kind: Any, value: str, ok: bool) -> None:
    adapter = TypeAdapter(kind)
    if ok:
        assert adapter.validate_python(value) == value
    else:
        with pytest.raises(ValidationError) as info:
            adapter.validate_python(value)
        message = info.value.errors()[0]["msg"]
        assert message.startswith(("expected", "control", "the URL"))
