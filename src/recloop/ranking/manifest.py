"""The bundle's integrity record: a SHA-256 of every file, checked before anything is loaded.

``manifest.json`` in the bundle maps each file's relative path to its SHA-256. It is written by
:func:`~recloop.ranking.bundle.save_bundle` and again at registration (so files added after
training, such as the P1 report, are covered), and the registry keeps the SHA-256 of the
manifest itself as a version tag (:data:`DIGEST_TAG`): the registry's record. At load,
:func:`verify_bundle` recomputes every file's digest; a mismatch is a
:class:`~recloop.errors.BundleIntegrityError` naming the file, which the registry answers by
fetching the version again and the loader by refusing it. A verified file is byte for byte what
training wrote, so LightGBM and FAISS never see a damaged file.

A bundle written before manifests existed has none: its native files (``ranker.txt``,
``index.faiss``) are first loaded in a child process (:func:`probe_native`), so a file that
would abort the C library fails that child, not the server.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from recloop.errors import BundleIntegrityError

__all__ = ["DIGEST_TAG", "MANIFEST", "file_sha256", "manifest_digest", "probe_native", "verify_bundle",
           "write_manifest"]  # fmt: skip

MANIFEST = "manifest.json"
DIGEST_TAG = "recloop.bundle_manifest_sha256"
_NATIVE = {"ranker.txt": "import lightgbm, sys; lightgbm.Booster(model_file=sys.argv[1])",
           "index.faiss": "import faiss, sys; faiss.read_index(sys.argv[1])"}  # fmt: skip


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def write_manifest(path: Path) -> str:
    """Write ``path/manifest.json`` over every other file under ``path``; its own SHA-256."""
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name != MANIFEST)
    body = {"format": 1, "files": {p.relative_to(path).as_posix(): file_sha256(p) for p in files}}
    raw = json.dumps(body, indent=1, sort_keys=True).encode()
    (path / MANIFEST).write_bytes(raw)
    return hashlib.sha256(raw).hexdigest()


def manifest_digest(path: Path) -> str | None:
    """The SHA-256 of ``path/manifest.json``, or None for a bundle without one."""
    m = path / MANIFEST
    return file_sha256(m) if m.is_file() else None


def verify_bundle(path: Path, expected: str | None = None) -> bool:
    """Check every file of the manifest (and the manifest against ``expected``, the registry's).

    True when verified, False for a bundle without a manifest and no ``expected`` record.
    Raises :class:`BundleIntegrityError` naming the first file that is missing or differs.
    """
    digest = manifest_digest(path)
    if digest is None:
        if expected is not None:
            raise BundleIntegrityError(f"{path}: {MANIFEST} is missing but the registry recorded one",
                                       MANIFEST)  # fmt: skip
        return False
    if expected is not None and digest != expected:
        raise BundleIntegrityError(f"{path / MANIFEST}: its SHA-256 {digest[:12]}... is not the registry's "
                                   f"record {expected[:12]}...", MANIFEST)  # fmt: skip
    try:
        files: dict[str, str] = json.loads((path / MANIFEST).read_text())["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleIntegrityError(f"{path / MANIFEST}: unreadable ({exc})", MANIFEST) from None
    for name, want in files.items():
        f = path / name
        if not f.is_file():
            raise BundleIntegrityError(f"{f}: missing from the bundle (the manifest lists it)", name)
        got = file_sha256(f)
        if got != want:
            raise BundleIntegrityError(f"{f}: SHA-256 {got[:12]}... differs from the manifest's "
                                       f"{want[:12]}...: the file is damaged", name)  # fmt: skip
    return True


def probe_native(path: Path) -> None:
    """Load each native file of an unverified bundle in a child process first (see the module doc)."""
    for name, code in _NATIVE.items():
        f = path / name
        if not f.is_file():
            continue
        proc = subprocess.run([sys.executable, "-c", code, str(f)], capture_output=True, timeout=300)
        if proc.returncode != 0:
            why = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise BundleIntegrityError(f"{f}: cannot be loaded (a check process died with {why}: "
                                       f"{tail[0][:200]})", name)  # fmt: skip
