"""Write the API's OpenAPI schema to web/src/api/openapi.json (or the path given; ``-`` = stdout).

No trained model is needed: only the FastAPI app object is built. Run after changing a route
or a response model, then ``cd web && npm run gen:api`` regenerates the TypeScript types.
"""

from __future__ import annotations

import sys
from pathlib import Path

from recloop.api.openapi import COMMITTED, openapi_text


def main(argv: list[str]) -> int:
    """Write the schema; returns the exit status."""
    root = Path(__file__).resolve().parents[1]
    target = argv[0] if argv else str(root / COMMITTED)
    text = openapi_text()
    if target == "-":
        sys.stdout.write(text)
    else:
        Path(target).write_text(text)
        sys.stderr.write(f"wrote {target}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
