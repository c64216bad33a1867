"""The practice question bank (teachkit.explorers.practice): lesson -> its questions, in order."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from teachkit.explorers import _practice_00_03 as _a
from teachkit.explorers import _practice_04_07 as _b
from teachkit.explorers._practice_core import LESSONS, Question


def _bank():
    spec = {
        "00": [("information", "Information at a look", _a._q00_information),
               ("risk-reduction", "What a hazard ratio says", _a._q00_risk_reduction),
               ("crossed", "Was the boundary crossed?", _a._q00_crossed),
               ("interval", "Is no difference compatible?", _a._q00_interval)],
        "01": [("at-risk", "Who is at risk?", _a._q01_at_risk),
               ("km-step", "A Kaplan-Meier estimate from its steps", _a._q01_km_step),
               ("km-patients", "A Kaplan-Meier estimate with censoring", _a._q01_km_patients),
               ("median", "Reading the median", _a._q01_median)],
        "02": [("o-minus-e", "O − E at one event time", _a._q02_o_minus_e),
               ("p-from-z", "From Z to a one-sided P", _a._q02_p_from_z),
               ("hr-from-z", "From Z to a hazard ratio", _a._q02_hr_from_z),
               ("significant", "Significant or not?", _a._q02_significant)],
        "03": [("risk-group", "Which risk group?", _a._q03_risk_group),
               ("stratum", "Which stratum?", _a._q03_stratum),
               ("count-high", "How many are high risk?", _a._q03_count_high)],
        "04": [("events-hr", "Events when the hazard ratio changes", _b._q04_events_hr),
               ("event-probability", "Events from survival", _b._q04_event_probability),
               ("patients", "From events to patients", _b._q04_patients),
               ("drift", "The mean of Z", _b._q04_drift)],
        "05": [("alpha-increment", "Alpha spent at one look", _b._q05_alpha_increment),
               ("pocock", "A spending function by hand", _b._q05_pocock),
               ("first-crossing", "Where does the trial stop?", _b._q05_first_crossing)],
        "06": [("b-value", "The B-value", _b._q06_b_value),
               ("conditional-power", "Conditional power under the trend", _b._q06_conditional_power),
               ("decision", "What do the rules say?", _b._q06_decision)],
        "07": [("ci-ratio", "How wide is the interval?", _b._q07_ci_ratio),
               ("ci-lower", "The interval's lower limit", _b._q07_ci_lower),
               ("events-for-width", "Events for a narrower interval", _b._q07_events_for_width)],
    }
    return {lesson: tuple(Question(lesson, key, title, make) for key, title, make in qs)
            for lesson, qs in spec.items()}


#: lesson -> its questions, in order.
QUESTIONS: Mapping[str, tuple] = _bank()


def lesson_key(lesson) -> str:
    """``"04"`` from ``"04"``, ``4`` or ``"04-planning-events"``; ValueError for anything else."""
    if isinstance(lesson, bool):
        raise TypeError(f"lesson must be a lesson number such as '04', got {lesson!r}")
    if isinstance(lesson, (int, np.integer)):
        key = f"{int(lesson):02d}"
    elif isinstance(lesson, str):
        key = lesson.strip()[:2]
    else:
        raise TypeError(f"lesson must be a lesson number such as '04', got {type(lesson).__name__}")
    if key not in QUESTIONS:
        raise ValueError(f"lesson must be one of {', '.join(LESSONS)}, got {lesson!r}")
    return key


def catalogue() -> dict:
    """lesson -> number of practice questions (what the course home shows before a visit).

    >>> catalogue()["04"]
    4
    """
    return {lesson: len(qs) for lesson, qs in QUESTIONS.items()}
