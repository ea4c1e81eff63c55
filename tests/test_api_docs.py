"""The published inventory API (docs/api/openapi.yaml) stays true to the schemas and to the sink's behaviour."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from adapters.sinks.http import RETRYABLE_STATUS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_openapi_references_the_canonical_schemas_and_its_example_is_valid():
    api = yaml.safe_load((DOCS / "api" / "openapi.yaml").read_text(encoding="utf-8"))
    assert api["openapi"].startswith("3.1")
    files = {ref.split("#")[0] for ref in _refs(api) if not ref.startswith("#")}
    assert files == {"../schema/envelope.schema.json", "../schema/cfdi.schema.json"}
    for ref in files:
        jsonschema.Draft202012Validator.check_schema(json.loads((DOCS / "api" / ref).read_text(encoding="utf-8")))
    envelope = json.loads((DOCS / "schema" / "envelope.schema.json").read_text(encoding="utf-8"))
    post = api["paths"]["/documents"]["post"]
    for example in post["requestBody"]["content"]["application/json"]["examples"].values():
        jsonschema.validate(example["value"], envelope)
    assert {"201", "409", "429", "500"} <= set(post["responses"])
    assert RETRYABLE_STATUS == {408, 425, 429}  # as the description says
