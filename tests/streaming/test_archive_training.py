"""Training from the Delta archive: an export of MovieLens reads back as exactly MovieLens's
interactions, time travel reads each version's events, and a model trained from the archive
gets the P1 figures of the model trained from MovieLens itself (the session's trained home)."""

from __future__ import annotations

from pathlib import Path

import pytest

import recloop.ranking.ranker as ranker_module
from homes import SMALL, Trained
from recloop.archive import DeltaArchive, events_frame
from recloop.config import Settings
from recloop.data import Dataset
from recloop.errors import ValidationError
from recloop.events.schema import Event
from recloop.pipelines.archive_data import export_dataset, parse_source, training_frame
from recloop.pipelines.train import train_and_register


def test_an_export_reads_back_as_the_dataset_and_as_of_reads_each_version(
    movielens: Dataset, tmp_path: Path
) -> None:
    path = str(tmp_path / "events")
    assert export_dataset(movielens, path) == 0
    settings = Settings(home=tmp_path)
    frame, label = training_frame(settings, movielens, f"delta:{path}", None)
    assert label == f"delta:{path}@v0"
    assert frame.equals(movielens.interactions[frame.columns].reset_index(drop=True))

    t = float(movielens.interactions["timestamp"].max()) + 60
    live = [Event(f"live-{n}", "web-user", n, int(movielens.item_ids[n]), "like", t + n) for n in range(5)]
    live.append(Event("live-dislike", "web-user", 9, int(movielens.item_ids[9]), "dislike", t + 9))
    DeltaArchive(path).append(events_frame(live, seqs=list(range(1, 7))), last_seq=6)
    now, _ = training_frame(settings, movielens, f"delta:{path}", None)
    then, then_label = training_frame(settings, movielens, f"delta:{path}", "0")
    assert len(now) == len(movielens.interactions) + 5  # the dislike is not an interaction
    assert then.equals(frame) and then_label == f"delta:{path}@v0"
    assert now["user_id"].max() == movielens.interactions["user_id"].max() + 1  # "web-user" mapped


def test_bad_sources_say_what_to_write() -> None:
    with pytest.raises(ValidationError, match="movielens or delta:PATH"):
        parse_source("parquet:/x")
    with pytest.raises(ValidationError, match="--as-of"):
        parse_source(None, "3")


def test_a_model_trained_from_the_archive_matches_the_one_trained_from_movielens(
    training_run: Trained, movielens: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "events")
    export_dataset(movielens, path)
    settings = Settings(home=tmp_path / "home")
    frame, _ = training_frame(settings, movielens, f"delta:{path}", None)
    monkeypatch.setattr(ranker_module, "training_thread_count", lambda: 1)  # as the session's training run
    result = train_and_register(settings, SMALL, None, movielens, frame)
    want = training_run.result.report.models["champion"].metrics
    got = result.report.models["champion"].metrics
    assert got == want
