"""Secrets in profiles: masking, env: references, 128-bit keys."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from rcs_terminal.domain.secrets import Key128, Secret, iter_secrets
from rcs_terminal.errors import ProfileError

K = "465b5ce8b199b49faa5f0a2ee238a6bc"


class Holder(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True)

    key: Key128
    password: Secret | None = None


def make(data: dict[str, object], **context: object) -> Holder:
    return Holder.model_validate(data, context=context or None)


def test_inline_secret_is_masked_everywhere() -> None:
    holder = make({"key": K, "password": "hunter2"})
    texts = [
        repr(holder),
        str(holder),
        repr(holder.key),
        str(holder.key),
        f"{holder.password}",
        json.dumps(holder.model_dump(mode="json")),
        holder.model_dump_json(),
        str(holder.model_dump()),
    ]
    for text in texts:
        assert K not in text
        assert "hunter2" not in text
    assert holder.model_dump(mode="json") == {"key": "***", "password": "***"}
    assert repr(holder.key) == "Key128('***')"


def test_reveal_gives_the_value() -> None:
    holder = make({"key": K.upper(), "password": "hunter2"})
    assert holder.key.reveal() == K.upper()
    assert holder.key.reveal_bytes() == bytes.fromhex(K)
    assert holder.password is not None
    assert holder.password.reveal() == "hunter2"


def test_reveal_context_dumps_inline_values_only() -> None:
    holder = make({"key": K, "password": "env:PW"}, environ={"PW": "pw-value"})
    dumped = holder.model_dump(mode="json", context={"reveal_secrets": True})
    assert dumped == {"key": K, "password": "env:PW"}


def test_env_reference_is_resolved_and_shown_as_reference() -> None:
    holder = make({"key": "env:SIM1_K"}, environ={"SIM1_K": f" {K}\n"})
    assert holder.key.reveal() == K
    assert holder.key.env == "SIM1_K"
    assert str(holder.key) == "env:SIM1_K"
    assert K not in repr(holder)
    assert holder.model_dump(mode="json")["key"] == "env:SIM1_K"


def test_env_reference_from_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCS_TEST_K", K)
    assert make({"key": "env:RCS_TEST_K"}).key.reveal() == K


def test_missing_variable_is_an_error_naming_it() -> None:
    with pytest.raises(ValidationError) as info:
        make({"key": "env:NOT_SET_ANYWHERE"}, environ={})
    error = info.value.errors()[0]
    assert error["loc"] == ("key",)
    assert error["msg"] == "environment variable NOT_SET_ANYWHERE is not set"


def test_missing_variable_can_be_kept() -> None:
    holder = make({"key": "env:LATER"}, environ={}, missing_env="keep")
    assert not holder.key.is_resolved
    assert str(holder.key) == "env:LATER"
    with pytest.raises(ProfileError, match="LATER"):
        holder.key.reveal()
    assert iter_secrets(holder) == [("key", holder.key)]


def test_variable_with_a_bad_key_is_refused_without_echo() -> None:
    with pytest.raises(ValidationError) as info:
        make({"key": "env:BAD"}, environ={"BAD": "abc123"})
    message = info.value.errors()[0]["msg"]
    assert message == "environment variable BAD does not hold 32 hex digits"


@pytest.mark.parametrize("bad", [K[:-1], K + "0", K[:-1] + "g", "", "0x" + K[2:], 1234])
def test_key_must_be_32_hex_digits(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        make({"key": bad})
    message = info.value.errors()[0]["msg"]
    assert "32 hex digits or env:NAME" in message
    assert not bad or str(bad) not in message


@pytest.mark.parametrize("bad", ["env:", "env:1X", "env:A-B", "env:A B"])
def test_env_reference_needs_a_variable_name(bad: str) -> None:
    with pytest.raises(ValidationError, match="variable name"):
        make({"key": bad})


def test_password_must_be_a_non_empty_string() -> None:
    with pytest.raises(ValidationError, match="non-empty string"):
        make({"key": K, "password": ""})
    with pytest.raises(ValidationError, match="quoted string"):
        make({"key": K, "password": 1234})


def test_secret_equality_and_hash() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a", env="X") != Secret("a")
    assert Secret(None, env="X") == Secret(None, env="X")
    assert Secret(None, env="X") != Secret("a", env="X")
    assert hash(Secret("a")) == hash(Secret("a"))
    assert Secret("a") != "a"
    assert Secret("ab") != Key128("ab")
    with pytest.raises(ValueError):
        Secret(None)


def test_secret_instances_pass_validation() -> None:
    key = Key128(K)
    assert make({"key": key}).key is key


def test_json_schema_of_secrets() -> None:
    schema = Holder.model_json_schema()
    assert schema["properties"]["key"]["pattern"] == (
        "^(env:[A-Za-z_][A-Za-z0-9_]*|[0-9A-Fa-f]{32})$"
    )
