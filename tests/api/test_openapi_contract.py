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
        changed = sorted(p for p in set(old["paths"]) | set(new["paths"])
                         if old["paths"].get(p) != new["paths"].get(p))  # fmt: skip
        was, now = old["components"]["schemas"], new["components"]["schemas"]
        changed += sorted(name for name in set(was) | set(now) if was.get(name) != now.get(name))
        raise AssertionError(f"{COMMITTED} is stale (differs in: {', '.join(changed) or 'operations'}); "
                             f"regenerate it and the TypeScript types: {REGENERATE}")  # fmt: skip


def test_the_schema_describes_every_route_and_the_error_shape() -> None:
    doc = openapi_document()
    assert {"/health", "/ready", "/v1/events", "/v1/users/{user_id}/recommendations", "/v1/models",
            "/v1/experiments", "/v1/experiments/{experiment_id}/results"} <= set(doc["paths"])  # fmt: skip
    recs = doc["paths"]["/v1/users/{user_id}/recommendations"]["get"]["responses"]
    body = {code: recs[code]["content"]["application/json"]["schema"]["$ref"] for code in ("200", "4XX")}
    assert body == {"200": "#/components/schemas/Recommendations", "4XX": "#/components/schemas/ErrorBody"}
    assert set(doc["components"]["schemas"]["Recommendations"]["required"]) >= {"variant", "items"}
