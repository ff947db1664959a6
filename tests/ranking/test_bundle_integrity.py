"""Every bundle file is checked at load: a corrupted file is named, a corrupted cache refetched,
and damaged native files (LightGBM, FAISS) never crash the loading process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from homes import HomeCopier
from recloop.config import Settings
from recloop.data import Dataset
from recloop.errors import BundleIntegrityError
from recloop.ranking.bundle import load_bundle
from recloop.ranking.manifest import DIGEST_TAG, MANIFEST, manifest_digest, verify_bundle
from recloop.registry import registry_from_settings


@pytest.fixture(scope="module")
def home(copy_trained_home: HomeCopier) -> Path:
    return copy_trained_home("integrity_home")


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle
    path.write_bytes(bytes(data))


def test_the_registry_records_the_manifest_of_every_file(home: Path) -> None:
    registry = registry_from_settings(Settings(home=home))
    path = registry.download(1)
    files = json.loads((path / MANIFEST).read_text())["files"]
    assert {"meta.json", "ranker.txt", "index.faiss", "evaluation_p1.json"} <= set(files)
    assert set(files) == {p.relative_to(path).as_posix() for p in path.rglob("*")
                          if p.is_file() and p.name != MANIFEST}  # fmt: skip
    assert registry.get(1).tags[DIGEST_TAG] == manifest_digest(path)


def test_each_corrupted_file_is_refused_by_name(home: Path, movielens: Dataset, tmp_path: Path) -> None:
    src = registry_from_settings(Settings(home=home)).download(1)
    names = sorted(json.loads((src / MANIFEST).read_text())["files"])
    for name in names:
        bundle = tmp_path / name.replace("/", "_")
        shutil.copytree(src, bundle)
        _corrupt(bundle / name)
        with pytest.raises(BundleIntegrityError) as info:
            load_bundle(bundle, movielens)
        assert info.value.field == name and name in info.value.message, name
        assert "download the version again" in info.value.message
    assert verify_bundle(src)  # the source itself is intact


def test_a_corrupted_cache_is_fetched_again_from_the_registry(home: Path) -> None:
    registry = registry_from_settings(Settings(home=home))
    path = registry.download(1)
    good = (path / "ranker.txt").read_bytes()
    _corrupt(path / "ranker.txt")
    (path / "index.faiss").write_bytes(b"garbage")
    again = registry.download(1)
    assert (again / "ranker.txt").read_bytes() == good
    assert verify_bundle(again, registry.get(1).tags[DIGEST_TAG])


def test_a_corrupted_registry_copy_fails_naming_the_file(copy_trained_home: HomeCopier) -> None:
    home = copy_trained_home("integrity_registry")
    registry = registry_from_settings(Settings(home=home))
    stored = [p for p in (home / "mlartifacts").rglob("index.faiss") if "bundle" in p.parts]
    assert len(stored) == 1
    _corrupt(stored[0])
    with pytest.raises(BundleIntegrityError) as info:
        registry.download(1)
    assert info.value.field == "index.faiss" and "version 1 in the registry is damaged" in info.value.message


@pytest.mark.parametrize("name", ["ranker.txt", "index.faiss"])
def test_garbage_native_files_of_a_bundle_without_manifest_do_not_crash(
    home: Path, movielens: Dataset, tmp_path: Path, name: str
) -> None:
    bundle = tmp_path / "old"
    shutil.copytree(registry_from_settings(Settings(home=home)).download(1), bundle)
    (bundle / MANIFEST).unlink()  # a bundle from before manifests
    load_bundle(bundle, movielens)  # intact: loads after the child-process check
    (bundle / name).write_bytes(b"\x00garbage that is no model at all\n" * 64)
    with pytest.raises(BundleIntegrityError) as info:
        load_bundle(bundle, movielens)
    assert info.value.field == name and "cannot be loaded" in info.value.message
