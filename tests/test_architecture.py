"""The shape of src/: no import cycle between domain packages, short functions, small classes."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "recloop"
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 200


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text())) for p in sorted(SRC.rglob("*.py"))]


def _package(path: Path) -> str:
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else path.stem


def test_no_import_cycle_between_domain_packages() -> None:
    """Every ``recloop.*`` import counts, function-local ones included."""
    edges: dict[str, set[str]] = defaultdict(set)
    for path, tree in _trees():
        here = _package(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("recloop."):
                there = node.module.split(".")[1]
                if there != here:
                    edges[here].add(there)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges[todo.pop()]:
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    cycles = sorted((a, b) for a in list(edges) for b in edges[a] if reaches(b, a))
    assert cycles == [], f"package cycles: {cycles}"


def test_functions_and_classes_stay_small() -> None:
    big = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            size = (node.end_lineno or node.lineno) - node.lineno + 1 if hasattr(node, "end_lineno") else 0
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and size > MAX_FUNCTION_LINES:
                big.append(f"{path.relative_to(SRC)}:{node.name} ({size} lines)")
            if isinstance(node, ast.ClassDef) and size > MAX_CLASS_LINES:
                big.append(f"{path.relative_to(SRC)}:class {node.name} ({size} lines)")
    assert big == [], "split these: " + ", ".join(big)
