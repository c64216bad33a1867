"""The newcomer time model (tests/newcomer.py) against the walk it was fitted to (issue 26).

A first-year student walked lessons 00-07 in 258 minutes; the old model (120 words a
minute, 3 minutes an explorer, 1 a check) gave 116. The new one reads at a fitted pace
(words a minute, by least squares once the fixed costs are taken off) and adds 4 minutes
an explorer, 2 a check, 1 a table, 0.5 a display formula and 1 a static figure. These
tests recompute the fit from the measured pages (tests/data/newcomer_walk.json) and print
it lesson by lesson.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import newcomer  # noqa: E402

WALK = json.loads((HERE / "data" / "newcomer_walk.json").read_text())["lessons"]
NAMES = sorted(WALK)
Y = np.array([WALK[n]["walk_minutes"] for n in NAMES], float)


def features(key):
    return np.array([WALK[n]["features"][key] for n in NAMES], float)


def fitted_wpm() -> float:
    """The reading pace that best fits the walk, the other costs fixed (least squares)."""
    fixed = sum(newcomer.MODEL[k] * features(k) for k in newcomer.MODEL if k != "words")
    words = features("words")
    per_word = float((Y - fixed) @ words / (words @ words))
    return 1 / per_word


def predicted(model=newcomer.MODEL):
    return np.array([newcomer.minutes(WALK[n]["features"], model) for n in NAMES])


def test_the_walk_is_the_one_issue_26_reports():
    assert dict(zip((n[:2] for n in NAMES), Y.astype(int).tolist())) == {
        "00": 18, "01": 35, "02": 30, "03": 25, "04": 40, "05": 25, "06": 50, "07": 35}
    assert Y.sum() == 258


def test_the_models_pace_is_the_fitted_one_rounded():
    wpm = fitted_wpm()
    assert newcomer.WPM == pytest.approx(wpm, abs=2.5), f"refit: {wpm:.1f} words a minute"


def test_the_model_fits_the_walk_and_the_old_one_did_not(capsys):
    new = predicted()
    old = predicted({"words": 1 / 120, "explorers": 3, "checks": 1})
    # the old model counted only the path before "Going further" (116 min); whole pages: 127
    assert old.sum() < 0.5 * Y.sum()
    residual = Y - new
    rmse = float(np.sqrt(np.mean(residual ** 2)))
    assert abs(new.sum() - Y.sum()) <= 0.05 * Y.sum(), (new.sum(), Y.sum())
    assert rmse <= 7.0, rmse
    # each lesson's walk within the tolerance the lessons' stated times get, or 9 minutes
    # (lesson 01's by-hand builder took the walker longer than any explorer)
    assert all(abs(r) <= max(newcomer.tolerance(p), 9) for r, p in zip(residual, new)), residual
    with capsys.disabled():
        print(f"\nNewcomer model fit ({newcomer.WPM:g} wpm fitted as {fitted_wpm():.1f}; "
              f"explorer {newcomer.EXPLORER:g}, check {newcomer.CHECK:g}, table {newcomer.TABLE:g}, "
              f"display formula {newcomer.FORMULA:g}, figure {newcomer.FIGURE:g} min)")
        print(f"{'lesson':<32}{'walk':>6}{'model':>7}{'old':>6}")
        for n, y, p, o in zip(NAMES, Y, new, old):
            print(f"{n:<32}{y:6.0f}{p:7.1f}{o:6.1f}")
        print(f"{'total':<32}{Y.sum():6.0f}{new.sum():7.1f}{old.sum():6.1f}   rmse {rmse:.1f} min")


def test_lint_catches_the_classes_it_names():
    assert newcomer.story_lint("AALL1331 planned 131 events; the boundary was P = .004.") == []
    for bad in ("tk.sequential.interim_report(...)", "as R's survfit does", "rpact's getDesignGroupSequential",
                "z = Phi^-1(1 - P)", "D = (z_a + z_b)**2", "np.log(hr)", "teachkit.aall1331"):
        assert newcomer.story_lint(bad), bad


def test_stated_times_are_read_from_the_top_line():
    assert newcomer.stated_times("⏱ About 18 minutes (the story) · folded parts for the statistician: "
                                 "about 12 minutes more, optional.") == (18, 12)
    assert newcomer.stated_times("About twenty minutes. After this lesson") is None
    assert newcomer.fold_minutes("For the statistician: why 131 events? (optional, about 6 min)") == 6
    assert newcomer.fold_minutes("For the statistician: why 131 events?") is None


def test_practice_is_its_own_time_not_the_storys():
    """The coordinator's rule: a lesson's practice is optional time of its own. The model's
    story has no practice term (the walk had none: the fit above is unchanged), the page
    measurement leaves the practice's words out of the story's words, and the practice
    heading's time comes from practice_minutes."""
    assert "practice" not in newcomer.MODEL
    assert "if (el.closest('.tk-practice')) continue;" in newcomer.FEATURES_JS
    assert newcomer.practice_minutes(4) == 4 * newcomer.PRACTICE_QUESTION > newcomer.CHECK * 4
    assert newcomer.practice_time("## Practice (optional, about 9 min)") == 9
    assert newcomer.practice_time("## Practice (about 9 min)") is None
