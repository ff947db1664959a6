"""Read MovieLens-100K from its two real sources, with checksums.

* GroupLens ``ml-100k.zip`` (``u.data``, ``u.item``, ``u.user``), from a URL or
  a local path; verified against the published MD5.
* The RecBole wheel on PyPI, which ships the same data in RecBole's "atomic"
  format (``ml-100k.inter``/``.item``/``.user``); located in the cache dir or
  fetched with ``pip download --no-deps recbole==1.2.1``; read straight from
  the zip without installing RecBole.

Both are cached under ``$RECLOOP_HOME/data``; the data is never committed.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pandas as pd

from recloop.config import DataConfig, Settings, get_settings
from recloop.data.movielens import GENRES, Dataset, event_order
from recloop.errors import DataError

__all__ = [
    "GROUPLENS_MD5",
    "RECBOLE_SHA256",
    "fetch_dataset",
    "load_dataset",
    "read_grouplens_zip",
    "read_recbole_wheel",
]

GROUPLENS_ZIP = "ml-100k.zip"
GROUPLENS_MD5 = "0e33842e24a9c977be4e0107933c0723"
RECBOLE_WHEEL = "recbole-1.2.1-py3-none-any.whl"
RECBOLE_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
_RECBOLE_DIR = "recbole/dataset_example/ml-100k/"
N_RATINGS = 100_000


def _digest(path: Path, algo: str) -> str:
    h = hashlib.new(algo)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verify(path: Path, algo: str, expected: str | None) -> None:
    if expected is None:
        return
    got = _digest(path, algo)
    if got != expected:
        raise DataError(
            f"{path}: {algo} checksum is {got}, expected {expected}; the file is corrupt or "
            f"truncated. Delete it and run `recloop data fetch` again."
        )


def _member(zf: zipfile.ZipFile, name: str, archive: Path) -> bytes:
    try:
        return zf.read(name)
    except KeyError as exc:
        raise DataError(f"{archive}: member {name!r} is missing; not a MovieLens-100K archive") from exc
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataError(f"{archive}: cannot read member {name!r} ({exc}); file is corrupt") from exc


def _open_zip(path: Path) -> zipfile.ZipFile:
    if not path.exists():
        raise DataError(f"{path}: file not found")
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise DataError(f"{path}: not a valid zip archive ({exc}); it may be truncated") from exc


def _check_interactions(inter: pd.DataFrame, where: str) -> pd.DataFrame:
    if inter.isna().any().any():
        raise DataError(f"{where}: interactions have missing values; the file is truncated")
    bad = ~inter["rating"].between(1, 5)
    if bad.any():
        raise DataError(f"{where}: {int(bad.sum())} ratings outside 1-5")
    inter = inter.astype({"user_id": "int64", "item_id": "int64", "rating": "int8", "timestamp": "int64"})
    return event_order(inter)


def _year_from_title(title: str) -> tuple[str, int | None]:
    t = title.strip()
    if t.endswith(")") and len(t) >= 6 and t[-6] == "(" and t[-5:-1].isdigit():
        return t[:-6].strip(), int(t[-5:-1])
    return t, None


def read_grouplens_zip(path: Path, md5: str | None = GROUPLENS_MD5) -> Dataset:
    """Parse a GroupLens ``ml-100k.zip`` (checksum verified unless ``md5`` is None)."""
    _verify(path, "md5", md5)
    with _open_zip(path) as zf:
        prefix = next((n[: -len("u.data")] for n in zf.namelist() if n.endswith("u.data")), None)
        if prefix is None:
            raise DataError(f"{path}: no u.data inside; not a MovieLens-100K archive")
        raw = {n: _member(zf, prefix + n, path) for n in ("u.data", "u.item", "u.user")}
    where = f"{path}!u.data"
    try:
        inter = pd.read_csv(
            io.BytesIO(raw["u.data"]), sep="\t", header=None,
            names=["user_id", "item_id", "rating", "timestamp"],
        )  # fmt: skip
        item_raw = pd.read_csv(io.BytesIO(raw["u.item"]), sep="|", header=None, encoding="latin-1")
        users = pd.read_csv(
            io.BytesIO(raw["u.user"]), sep="|", header=None,
            names=["user_id", "age", "gender", "occupation", "zip"], dtype={"zip": str},
        )  # fmt: skip
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot parse ({exc})") from exc
    if item_raw.shape[1] != 5 + len(GENRES):
        raise DataError(f"{path}!u.item: expected {5 + len(GENRES)} columns, got {item_raw.shape[1]}")
    titles = [_year_from_title(str(t)) for t in item_raw[1]]
    flags = item_raw.iloc[:, 5:].to_numpy()
    genres = ["|".join(g for g, f in zip(GENRES, row, strict=True) if f == 1) for row in flags]
    release = pd.to_datetime(item_raw[2], format="%d-%b-%Y", errors="coerce")
    years = [y if y is not None else (r.year if pd.notna(r) else None)
             for (_, y), r in zip(titles, release, strict=True)]  # fmt: skip
    items = pd.DataFrame({
        "item_id": item_raw[0].astype("int64"),
        "title": [t for t, _ in titles],
        "year": pd.array(years, dtype="Int64"),
        "genres": genres,
    })  # fmt: skip
    return Dataset(_check_interactions(inter, where), items, users, source=f"grouplens:{path.name}")


def _atomic(raw: bytes, where: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.BytesIO(raw), sep="\t", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"{where}: cannot parse ({exc})") from exc
    frame.columns = [c.split(":")[0] for c in frame.columns]
    return frame


def read_recbole_wheel(path: Path, sha256: str | None = RECBOLE_SHA256) -> Dataset:
    """Parse MovieLens-100K out of the RecBole wheel (checksum verified unless None)."""
    _verify(path, "sha256", sha256)
    with _open_zip(path) as zf:
        raw = {ext: _member(zf, f"{_RECBOLE_DIR}ml-100k.{ext}", path) for ext in ("inter", "item", "user")}
    inter_s = _atomic(raw["inter"], f"{path}!ml-100k.inter")
    try:
        inter = pd.DataFrame({
            "user_id": pd.to_numeric(inter_s["user_id"]),
            "item_id": pd.to_numeric(inter_s["item_id"]),
            "rating": pd.to_numeric(inter_s["rating"]).round(),
            "timestamp": pd.to_numeric(inter_s["timestamp"]),
        })  # fmt: skip
    except (KeyError, ValueError) as exc:
        raise DataError(f"{path}!ml-100k.inter: bad column or value ({exc}); file is corrupt") from exc
    item_s = _atomic(raw["item"], f"{path}!ml-100k.item")
    items = pd.DataFrame({
        "item_id": pd.to_numeric(item_s["item_id"]).astype("int64"),
        "title": item_s["movie_title"].str.strip(),
        "year": pd.to_numeric(item_s["release_year"], errors="coerce").astype("Int64"),
        "genres": item_s["class"].str.split().str.join("|"),
    }).sort_values("item_id", ignore_index=True)  # fmt: skip
    user_s = _atomic(raw["user"], f"{path}!ml-100k.user")
    users = pd.DataFrame({
        "user_id": pd.to_numeric(user_s["user_id"]).astype("int64"),
        "age": pd.to_numeric(user_s["age"]).astype("int64"),
        "gender": user_s["gender"], "occupation": user_s["occupation"], "zip": user_s["zip_code"],
    }).sort_values("user_id", ignore_index=True)  # fmt: skip
    inter = _check_interactions(inter, f"{path}!ml-100k.inter")
    return Dataset(inter, items, users, source=f"recbole:{path.name}")


def _pip_download_recbole(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "recbole==1.2.1", "-d", str(dest)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheel = dest / RECBOLE_WHEEL
    if proc.returncode != 0 or not wheel.exists():
        raise DataError(
            "could not fetch the RecBole wheel with `pip download --no-deps recbole==1.2.1`: "
            f"{proc.stderr.strip()[-400:]}. Put {RECBOLE_WHEEL} or ml-100k.zip into {dest} "
            "or set RECLOOP_DATA__GROUPLENS_PATH."
        )
    return wheel


def _download_grouplens(url: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / GROUPLENS_ZIP
    tmp = target.with_suffix(".part")
    try:
        with urllib.request.urlopen(url, timeout=30) as resp, tmp.open("wb") as out:
            shutil.copyfileobj(resp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(f"cannot download {url} ({exc}); use --source recbole offline") from exc
    tmp.replace(target)
    return target


def fetch_dataset(settings: Settings | None = None, source: str | None = None) -> Path:
    """Make sure a verified source file is in the cache; return its path."""
    s = settings or get_settings()
    cfg: DataConfig = s.data
    kind = source or cfg.source
    cache = s.data_dir
    gl_cached, rb_cached = cache / GROUPLENS_ZIP, cache / RECBOLE_WHEEL
    if kind in ("grouplens", "auto") and cfg.grouplens_path is not None:
        _verify(cfg.grouplens_path, "md5", GROUPLENS_MD5)
        cache.mkdir(parents=True, exist_ok=True)
        if cfg.grouplens_path.resolve() != gl_cached.resolve():
            shutil.copyfile(cfg.grouplens_path, gl_cached)
        return gl_cached
    if kind in ("grouplens", "auto") and gl_cached.exists():
        return gl_cached
    if kind == "grouplens":
        return _download_grouplens(cfg.grouplens_url, cache)
    if cfg.recbole_wheel is not None:
        _verify(cfg.recbole_wheel, "sha256", RECBOLE_SHA256)
        return cfg.recbole_wheel
    if rb_cached.exists():
        return rb_cached
    return _pip_download_recbole(cache)


def load_dataset(settings: Settings | None = None, source: str | None = None) -> Dataset:
    """The configured dataset: a synthetic directory if ``data.dir`` is set (``--data DIR``),
    else MovieLens-100K fetched (if needed) and parsed from the configured source."""
    s = settings or get_settings()
    if s.data.dir is not None and source is None:
        from recloop.data.synth_source import read_synth_dir

        return read_synth_dir(s.data.dir)
    path = fetch_dataset(s, source)
    data = read_grouplens_zip(path) if path.name.endswith(".zip") else read_recbole_wheel(path)
    if len(data.interactions) != N_RATINGS:
        raise DataError(f"{path}: {len(data.interactions)} ratings, expected {N_RATINGS}; file is truncated")
    return data
