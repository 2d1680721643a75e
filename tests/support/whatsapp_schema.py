"""Check Graph API message bodies against Meta's official OpenAPI description (test support only).

The description (`shared/reference/whatsapp-business-api-v23.0.yaml`) cannot be used as it stands:

- each `*Message` schema is an `allOf` of the shared properties and an object with
  `additionalProperties: false`, which rejects even Meta's own examples; we merge every `allOf` into
  one object schema (union of properties and required; closed only if every member is closed);
- `recipient_type` and a template language's `policy` are optional in practice, so we drop them from
  `required`; `recipient` (the business-scoped user id) stands in for `to`, so we rename it first;
- interactive `cta_url` messages are missing, so we add them as Meta documents them at
  https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-cta-url-messages.

Bodies are validated with `jsonschema.Draft202012Validator`, components embedded so `$ref`s resolve.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SPEC_PATH = Path(__file__).resolve().parents[3] / "shared" / "reference" / "whatsapp-business-api-v23.0.yaml"
MESSAGES_PATH = "/{Version}/{Phone-Number-ID}/messages"

_CTA_URL_ACTION: dict[str, Any] = {
    "required": ["name", "parameters"],
    "properties": {
        "name": {"type": "string", "enum": ["cta_url"]},
        "parameters": {
            "type": "object",
            "additionalProperties": False,
            "required": ["display_text", "url"],
            "properties": {
                "display_text": {"type": "string", "maxLength": 20},
                "url": {"type": "string"},
            },
        },
    },
}
# What an `allOf` member may hold: validation keywords we merge, and annotations that validate nothing.
_MERGEABLE = {"type", "properties", "required", "additionalProperties", "description", "example", "discriminator"}


@functools.cache
def load_spec() -> dict[str, Any]:
    """Meta's OpenAPI document, parsed once; a missing file is an error, never a skip."""
    if not SPEC_PATH.is_file():
        raise FileNotFoundError(f"Meta's WhatsApp OpenAPI description is missing: {SPEC_PATH}")
    with SPEC_PATH.open("rb") as stream:
        spec: dict[str, Any] = yaml.load(stream, Loader=yaml.CSafeLoader)
    return spec


def request_examples() -> dict[str, dict[str, Any]]:
    """Meta's own example bodies for `POST /{Version}/{Phone-Number-ID}/messages`, by name."""
    request_body = load_spec()["paths"][MESSAGES_PATH]["post"]["requestBody"]
    examples = request_body["content"]["application/json"]["examples"]
    return {name: example["value"] for name, example in examples.items()}


def schema_errors(body: Mapping[str, Any]) -> list[str]:
    """Why `body` is not a valid message (empty when it is): `path: message` lines, the most
    relevant error of each failed `oneOf` rather than the whole alternative."""
    message = dict(body)
    if "recipient" in message and "to" not in message:
        message["to"] = message.pop("recipient")
    mapping = load_spec()["components"]["schemas"]["Message"]["discriminator"]["mapping"]
    kind = message.get("type")
    if kind not in mapping:
        return [f"type: {kind!r} is not one of {sorted(mapping)}"]
    errors = [best_match([error]) for error in _validator(mapping[kind]).iter_errors(message)]
    return sorted(f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}" for error in errors)


def assert_valid_message(body: Mapping[str, Any]) -> None:
    errors = schema_errors(body)
    assert not errors, "body breaks Meta's schema:\n" + "\n".join(errors)


@functools.cache
def _validator(ref: str) -> Draft202012Validator:
    schema = {"$ref": ref, "components": {"schemas": _schemas()}}
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@functools.cache
def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = copy.deepcopy(load_spec()["components"]["schemas"])
    _drop_required(schemas["BaseMessageProperties"], "recipient_type")
    _drop_required(schemas["LanguageObject"], "policy")
    schemas["InteractiveObject"]["properties"]["type"]["enum"].append("cta_url")
    schemas["ActionObject"]["oneOf"].append(_CTA_URL_ACTION)
    return {name: _merge_all_of(schema, schemas) for name, schema in schemas.items()}


def _drop_required(schema: dict[str, Any], name: str) -> None:
    schema["required"] = [field for field in schema.get("required", []) if field != name]


def _merge_all_of(node: Any, schemas: Mapping[str, Any]) -> Any:
    """`node` with every `allOf` (its `$ref` members resolved) merged into one object schema."""
    if isinstance(node, list):
        return [_merge_all_of(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    merged = {key: _merge_all_of(value, schemas) for key, value in node.items() if key != "allOf"}
    if "allOf" not in node:
        return merged
    members = [_merge_all_of(_resolve(member, schemas), schemas) for member in node["allOf"]]
    for member in members:
        if unknown := set(member) - _MERGEABLE:
            raise NotImplementedError(f"cannot merge allOf members with {sorted(unknown)}")
    properties: dict[str, Any] = {}
    for member in members:
        for name, schema in member.get("properties", {}).items():
            properties[name] = {"allOf": [properties[name], schema]} if name in properties else schema
    required = list(dict.fromkeys(name for member in members for name in member.get("required", [])))
    merged.update(type="object", properties=properties, required=required)
    if all(member.get("additionalProperties") is False for member in members):
        merged["additionalProperties"] = False
    return merged


def _resolve(node: Any, schemas: Mapping[str, Any]) -> Any:
    ref = node.get("$ref", "") if isinstance(node, dict) else ""
    prefix = "#/components/schemas/"
    return _resolve(schemas[ref.removeprefix(prefix)], schemas) if ref.startswith(prefix) else node
