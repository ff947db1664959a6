"""Alert collapse and recovery, check labels, matched inputs, online quality per version."""

from __future__ import annotations

import numpy as np

from recloop.monitoring.alerts import AlertBook, FailingCheck
from recloop.monitoring.checks import alert_direction, check_key, check_label, plotted_value
from recloop.monitoring.drift import DriftInputs, DriftScore
from recloop.monitoring.inputs import matched
from recloop.monitoring.online import OnlineQuality

GENRE = FailingCheck("categorical.genre:chi2", "Genre mix (chi-squared)", 1e-9)
GINI = FailingCheck("output.gini", "Concentration (change vs reference)", 0.3)


def test_a_check_failing_on_every_run_is_one_alert_counted_with_its_last_sighting() -> None:
    book = AlertBook()
    first = book.update([GENRE], now=100.0)
    assert [a.key for a in first.opened] == [GENRE.key]
    for n in range(1, 12):
        update = book.update([GENRE], now=100.0 + 300 * n)
        assert update.opened == () and update.closed == ()
    (alert,) = book.open_alerts()
    assert (alert.since, alert.last_seen, alert.count) == (100.0, 3400.0, 12)


def test_an_alert_closes_when_its_check_recovers_and_a_new_episode_opens_again() -> None:
    book = AlertBook()
    book.update([GENRE, GINI], now=0.0)
    update = book.update([GINI], now=300.0)
    assert [a.key for a in update.closed] == [GENRE.key] and update.closed[0].closed_at == 300.0
    assert [a.key for a in book.open_alerts()] == [GINI.key]
    again = book.update([GENRE, GINI], now=600.0)
    assert [a.key for a in again.opened] == [GENRE.key] and again.opened[0].since == 600.0
    assert book.open[GINI.key].count == 3
    assert [a.closed_at for a in book.closed] == [300.0]


def test_closed_alerts_are_bounded_newest_first() -> None:
    book = AlertBook(keep_closed=3)
    for n in range(10):
        book.update([GENRE], now=2.0 * n)
        book.update([], now=2.0 * n + 1)
    assert [a.since for a in book.closed] == [18.0, 16.0, 14.0]


def test_tests_plot_their_p_value_and_carry_a_human_label() -> None:
    chi2 = DriftScore("categorical.genre", "chi2", 123.0, 1e-5, 0.01, True)
    psi = DriftScore("categorical.genre", "psi", 0.4, None, 0.25, True)
    assert check_key(chi2.name, chi2.kind) == "categorical.genre:chi2"
    assert check_key(psi.name, psi.kind) == "categorical.genre"
    assert check_label(chi2.name, chi2.kind) == "Genre mix (chi-squared)"
    assert (
        check_label("output.cold_start_share", "delta") == "Cold-start share of lists (change vs reference)"
    )
    assert plotted_value(chi2) == 1e-5 and plotted_value(psi) == 0.4
    assert [alert_direction(k) for k in ("ks", "psi", "delta")] == ["below", "above", "abs_above"]


def _inputs(types: dict[str, int], ratings: list[float]) -> DriftInputs:
    return DriftInputs(output_scores=np.ones(3), cold_start_share=0.0, recommended_counts={"1": 1},
                       numeric={"rating": np.asarray(ratings, float), "item_popularity": np.ones(3)},
                       categorical={"event_type": types, "genre": {"Drama": 3}})  # fmt: skip


def test_a_ratings_only_reference_turns_off_the_event_mix_and_ratings_for_click_traffic() -> None:
    ref, cur, off = matched(_inputs({"rate": 100}, [4.0, 5.0]), _inputs({"click": 50, "like": 9}, []))
    assert {d.name for d in off} == {"categorical.event_type", "numeric.rating"}
    assert "one event type only (rate)" in next(d.reason for d in off if d.name.endswith("event_type"))
    for side in (ref, cur):
        assert set(side.categorical) == {"genre"} and set(side.numeric) == {"item_popularity"}


def test_a_mixed_reference_compares_the_live_mix_over_its_own_types_only() -> None:
    ref, cur, off = matched(
        _inputs({"rate": 80, "click": 20}, [4.0]), _inputs({"click": 50, "like": 9}, [3.0])
    )
    assert off == []
    assert dict(cur.categorical["event_type"]) == {"click": 50}
    assert dict(ref.categorical["event_type"]) == {"rate": 80, "click": 20}


class Clock:
    """A clock tests move by hand (Unix s)."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_online_ctr_and_positive_rate_per_version_in_the_bucket_the_list_was_served() -> None:
    clock = Clock(6000.0)
    q = OnlineQuality(clock, bucket_s=60, window_s=600)
    q.exposure("a", "1", [10, 11])
    q.exposure("b", "2", [10, 12])
    q.exposure("c", "2", [13])
    clock.t = 6125.0  # two buckets later: still attributed to the 6000 bucket
    q.event("a", 10, "click", None)
    q.event("a", 11, "like", None)  # a second click on the same list: counted once in ctr
    q.event("b", 12, "view", None)
    q.event("c", 99, "like", None)  # not on the list shown: not attributed
    snap = q.snapshot("2")
    by_version = {v["version"]: v for v in snap["versions"]}
    assert by_version["1"]["ctr"] == 1.0 and by_version["1"]["positive_rate"] == 1.0
    assert by_version["2"]["ctr"] == 0.0 and by_version["2"]["positive_rate"] == 0.0
    assert by_version["2"]["lists"] == 2 and by_version["2"]["attributed"] == 1
    assert [(p["t"], p["version"]) for p in snap["series"]] == [(6000, "1"), (6000, "2")]
    clock.t = 6000.0 + 700
    assert q.snapshot("2")["series"] == []  # the bucket left the 10-minute window
