"""A damaged state.db fails loudly with the recovery; backup and rebuild recover what can be read."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from recloop.cli import app
from recloop.config import get_settings
from recloop.errors import DataError
from recloop.events.schema import Event
from recloop.features.sqlite_log import SQLiteEventLog
from recloop.features.sqlite_recovery import backup_state, rebuild_state
from recloop.features.sqlite_store import SQLiteFeatureStore

N_ITEMS = 50


def events(n: int, start: int = 0) -> list[Event]:
    return [Event(f"e{k}", f"u{k % 7}", k % N_ITEMS, k % N_ITEMS + 1, "click", 1e9 + k, None,
                  "r" * 200) for k in range(start, start + n)]  # fmt: skip


def filled(path: Path, n: int) -> None:
    store = SQLiteFeatureStore(path, N_ITEMS)
    store.append(events(n))
    store.close()  # closing the last connection checkpoints the WAL into the file


def test_zero_byte_file_fails_with_the_file_and_the_recovery(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"")
    with pytest.raises(DataError) as info:
        SQLiteFeatureStore(path, N_ITEMS)
    msg = info.value.message
    assert str(path) in msg and "0 bytes" in msg
    assert "recloop state rebuild" in msg and "backup" in msg and "0 events" in msg
    with pytest.raises(DataError):  # the lock was released: the same error again, not "already open"
        SQLiteFeatureStore(path, N_ITEMS)


def test_garbage_and_truncated_files_fail(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage" / "state.db"
    garbage.parent.mkdir()
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(DataError, match="not a SQLite database"):
        SQLiteFeatureStore(garbage, N_ITEMS)
    truncated = tmp_path / "state.db"
    filled(truncated, 3000)
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="recloop state rebuild"):
        SQLiteFeatureStore(truncated, N_ITEMS)


def test_rebuild_keeps_every_readable_event(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    filled(path, 3000)
    data = bytearray(path.read_bytes())
    page = 4096
    data[20 * page : 22 * page] = b"\xff" * (2 * page)  # two leaf pages of the events table
    path.write_bytes(bytes(data))
    with pytest.raises(DataError):
        SQLiteFeatureStore(path, N_ITEMS)
    report = rebuild_state(path)
    assert report.damaged_copy.exists() and report.damaged_copy.name.startswith("state.db.damaged-")
    assert 2500 < report.recovered < 3000 and report.lost > 0
    store = SQLiteFeatureStore(path, N_ITEMS)
    assert store.event_count() == report.recovered
    seqs = [s for s, _ in store.events()]
    assert seqs == sorted(seqs) and seqs[0] == 1 and seqs[-1] == 3000  # original numbers kept
    assert store.append(events(1, start=3000)) == [True]
    store.close()


def test_backup_while_open_and_rebuild_refused_while_open(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SQLiteFeatureStore(path, N_ITEMS)
    store.append(events(500))
    assert backup_state(path, tmp_path / "backup.db") == 500
    with pytest.raises(Exception, match="stop `recloop serve`"):
        rebuild_state(path)
    store.close()
    again = SQLiteFeatureStore(tmp_path / "backup.db", N_ITEMS)
    assert again.event_count() == 500
    again.close()


def test_read_only_log_beside_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    writer = SQLiteFeatureStore(path, N_ITEMS)
    writer.append(events(10))
    log = SQLiteEventLog(path)  # no lock needed
    assert log.event_count() == 10
    writer.append(events(5, start=10))
    assert [s for s, _ in log.events(after=12)] == [13, 14, 15]
    log.close()
    writer.close()
    assert SQLiteEventLog(tmp_path / "missing.db").event_count() == 0


def test_state_rebuild_command_on_a_zero_byte_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECLOOP_HOME", str(tmp_path))
    for name in ("RECLOOP_STATE__TYPE", "RECLOOP_STATE__PATH"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    (tmp_path / "state.db").write_bytes(b"")
    try:
        result = CliRunner().invoke(app, ["state", "rebuild"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "0 events recovered" in result.stdout and "state.db.damaged-" in result.stdout
    store = SQLiteFeatureStore(tmp_path / "state.db", N_ITEMS)
    assert store.event_count() == 0
    store.close()


def _remove(path: Path) -> None:
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        (path.parent / name).unlink(missing_ok=True)


def test_a_missing_or_emptied_file_is_refused_when_the_marker_says_events_were_stored(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    filled(path, 1234)
    assert (tmp_path / "state.db.stored").exists()
    data = path.read_bytes()
    for damage, expect in ((b"", "0 bytes"), (data[:50], "shorter than the SQLite header")):
        path.write_bytes(damage)
        with pytest.raises(DataError) as info:
            SQLiteFeatureStore(path, N_ITEMS)
        assert str(path) in info.value.message and expect in info.value.message
        assert "records 1,234 stored events" in info.value.message
        assert "recloop state rebuild" in info.value.message
    _remove(path)
    with pytest.raises(DataError) as info:
        SQLiteFeatureStore(path, N_ITEMS)
    msg = info.value.message
    assert f"{path} is missing" in msg and "1,234 stored events" in msg and "backup" in msg
    assert "state.db.stored" in msg  # how to start empty on purpose
    path.write_bytes(data)  # the restored backup opens
    store = SQLiteFeatureStore(path, N_ITEMS)
    assert store.event_count() == 1234
    store.clear()  # an emptied store: starting again without the file is a new store
    store.close()
    _remove(path)
    fresh = SQLiteFeatureStore(path, N_ITEMS)
    assert fresh.event_count() == 0
    fresh.close()


def test_a_new_store_never_written_leaves_no_marker(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SQLiteFeatureStore(path, N_ITEMS).close()
    assert not (tmp_path / "state.db.stored").exists()
    _remove(path)
    SQLiteFeatureStore(path, N_ITEMS).close()  # nothing was ever stored: a new store again
