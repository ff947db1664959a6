"""The OpenAPI document of the HTTP API, built without a model, and its committed copy.

``web/src/api/openapi.json`` is generated from :func:`openapi_document` (``python
scripts/openapi.py``, or ``npm run gen:api`` in web/), and the dashboard's TypeScript types
are generated from that file; ``tests/api/test_openapi_contract.py`` fails when the committed
copy differs from what the code describes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from recloop.api.app import create_app
from recloop.config import Settings

__all__ = ["COMMITTED", "REGENERATE", "openapi_document", "openapi_text"]

COMMITTED = Path("web") / "src" / "api" / "openapi.json"
"""Where the committed copy lives, relative to the checkout."""

REGENERATE = "python scripts/openapi.py && (cd web && npm run gen:api)"
"""The command that rewrites the committed schema and the TypeScript types generated from it."""


def openapi_document() -> dict[str, Any]:
    """The app's OpenAPI schema: only the app object is built (no lifespan, no model, no data)."""
    return create_app(Settings()).openapi()


def openapi_text() -> str:
    """:func:`openapi_document` as the committed file holds it: 2-space JSON, a final newline."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"
