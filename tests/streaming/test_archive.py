"""The Delta archive: appends, time travel, the exactly-once tail of a durable log, compaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.conftest import make_event
from recloop.archive import Archiver, DeltaArchive, events_frame
from recloop.config import MemoryStateConfig
from recloop.errors import ConfigError, DataError
from recloop.features import open_store


def test_appends_are_versions_and_time_travel_reads_each(tmp_path: Path) -> None:
    a = DeltaArchive(tmp_path / "t")
    assert a.version() == -1 and a.last_seq() == 0
    v0 = a.append(events_frame([make_event(n) for n in range(5)]))
    v1 = a.append(events_frame([make_event(n) for n in range(5, 8)], seqs=[6, 7, 8]), last_seq=8)
    assert (v0, v1) == (0, 1)
    assert len(a.read(as_of=0)) == 5 and len(a.read()) == 8 and len(a.read(as_of="1")) == 8
    assert a.last_seq() == 8
    row = a.read().sort_values("event_id").iloc[0]
    assert row["event_date"] == "2001-09-09" and row["type"] == "click"
    with pytest.raises(DataError, match="no version"):
        a.read(as_of=7)


def test_the_archiver_copies_the_log_exactly_once_across_passes_and_failures(tmp_path: Path) -> None:
    store = open_store(MemoryStateConfig(path=tmp_path / "state.db"), n_items=50, home=tmp_path)
    archive = DeltaArchive(tmp_path / "archive")
    try:
        store.append([make_event(n, user=f"u{n % 3}") for n in range(120)])
        first = Archiver(store, archive, batch=50)
        assert first.run_once().copied == 120  # three commits of <= 50
        assert first.run_once().copied == 0
        first.close()

        store.append([make_event(n) for n in range(120, 150)])
        broken = Archiver(store, archive, batch=10)
        calls = {"n": 0}
        real = archive.append

        def fail_second(frame, last_seq=None):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError("disk full")
            return real(frame, last_seq)

        archive.append = fail_second  # type: ignore[method-assign]
        with pytest.raises(OSError):
            broken.run_once()
        archive.append = real  # type: ignore[method-assign]
        assert broken.run_once().copied == 20  # the 10 committed before the failure are not copied again
        broken.close()
        ids = archive.read()["event_id"]
        assert len(ids) == 150 and ids.is_unique
        assert archive.last_seq() == 150
    finally:
        store.close()


def test_a_second_archiver_on_the_same_table_is_refused(tmp_path: Path) -> None:
    store = open_store(MemoryStateConfig(path=tmp_path / "state.db"), n_items=50, home=tmp_path)
    archive = DeltaArchive(tmp_path / "archive")
    one = Archiver(store, archive)
    one.run_once()
    with pytest.raises(ConfigError, match="another archiver"):
        Archiver(store, archive).run_once()
    one.close()
    store.close()


def test_compaction_keeps_rows_and_time_travel(tmp_path: Path) -> None:
    a = DeltaArchive(tmp_path / "t")
    for k in range(4):
        a.append(events_frame([make_event(n) for n in range(10 * k, 10 * k + 10)]))
    a.compact()
    assert len(a.read()) == 40 and len(a.read(as_of=1)) == 20
    assert a.vacuum(retention_hours=168) == []  # nothing is old enough: time travel intact
    assert len(a.read(as_of=0)) == 10


@pytest.mark.redis
def test_trim_drops_only_what_the_archive_committed(tmp_path: Path, redis_url: str) -> None:
    import uuid

    from recloop.config import RedisStateConfig

    store = open_store(RedisStateConfig(url=redis_url, prefix=f"recloop-test-{uuid.uuid4().hex}"),
                       n_items=50, home=tmp_path)  # fmt: skip
    archive = DeltaArchive(tmp_path / "archive")
    try:
        store.append([make_event(n, user=f"u{n % 3}") for n in range(25)])
        real = archive.append
        calls = {"n": 0}

        def fail_third(frame, last_seq=None):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError("disk full")
            return real(frame, last_seq)

        archive.append = fail_third  # type: ignore[method-assign]
        archiver = Archiver(store, archive, batch=10, trim=True)
        with pytest.raises(OSError):
            archiver.run_once()
        assert [s for s, _ in store.events()] == list(range(21, 26))  # the failed batch stays
        archive.append = real  # type: ignore[method-assign]
        assert archiver.run_once().copied == 5 and store.events() == []
        assert len(archive.read()) == 25 and store.event_count() == 25
        assert sum(len(store.user_events(f"u{k}")) for k in range(3)) == 25
        archiver.close()
    finally:
        store.clear()
        store.close()
