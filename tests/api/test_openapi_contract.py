"""The committed OpenAPI schema (web/src/api/openapi.json, the source of the dashboard's
TypeScript types) is exactly what the server describes; no model is needed to build it."""

from __future__ import annotations

import json
from pathlib import Path

from recloop.api.openapi import COMMITTED, REGENERATE, openapi_document, openapi_text

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_json_matches_the_server() -> None:
    committed = (ROOT / COMMITTED).read_text()
    fresh = openapi_text()
    if committed != fresh:
        old, new = json.loads(committed), json.loads(fresh)
        changed = sorted(set(old["paths"]) ^ set(new["paths"]))
        changed += sorted(name for name in set(old["components"]["schemas"]) | set(new["components"]["schemas"])
                          if old["components"]["schemas"].get(name) != new["components"]["schemas"].get(name))  # fmt: skip
        raise AssertionError(f"{COMMITTED} is stale (differs in: {', '.join(changed) or 'operations'}); "
                             f"regenerate it and the TypeScript types: {REGENERATE}")  # fmt: skip


def test_the_schema_describes_every_route_and_the_error_shape() -> None:
    doc = openapi_document()
    assert {"/health", "/ready", "/v1/events", "/v1/users/{user_id}/recommendations", "/v1/models",
            "/v1/experiments", "/v1/experiments/{experiment_id}/results"} <= set(doc["paths"])  # fmt: skip
    recs = doc["paths"]["/v1/users/{user_id}/recommendations"]["get"]["responses"]
    assert recs["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Recommendations"}
    assert recs["4XX"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert set(doc["components"]["schemas"]["Recommendations"]["required"]) >= {"variant", "items"}
