"""Practice: short questions, in every lesson, where the learner computes or reads a number.

A lesson adds one cell, ``tk.explorers.practice_for("04")``, and the learner gets its
questions (3-6 a lesson) one at a time: a small data set or a few numbers from what the
lesson shows, a box for the answer, and feedback that explains the mistake.

How it is built (compute apart from view, as every explorer):

``QUESTIONS``
    lesson -> the lesson's :class:`Question` s.  A question's ``make(rng)`` draws fresh data
    from a numpy generator and returns a :class:`Problem`: the prompt, the **answer computed
    by teachkit** (``tk.survival.kaplan_meier``, ``tk.survival.logrank_test``,
    ``tk.risk.assign_risk_group``, ``tk.design.events_required``, ``tk.sequential``...; the
    normal distribution from scipy where teachkit has no function), the stated tolerance, a
    hint, a worked answer, and the **common wrong answers** (:class:`Mistake`), each computed
    the way the mistake computes it (e.g. the Kaplan-Meier estimate with censored patients
    kept at risk after their time) and each with what went wrong.
:func:`check`
    pure: a problem and what the learner typed (or chose) -> a :class:`Verdict` (right,
    a recognised mistake, wrong, or unreadable), with the feedback to show.
:class:`Practice`
    the widget: one question at a time, "Check" (or Enter), "Show a hint", "Try another"
    (new data: each draw has its own seed), the worked answer after two wrong tries, and the
    number of questions answered right.  Labelled inputs, feedback in a polite live region,
    keyboard only, and 375 px wide, as the other explorers (:mod:`~teachkit.explorers._a11y`).

**Progress is kept in the learner's browser, nowhere else.**  The widget shows the questions
answered right in a visually hidden element (class ``tk-practice-state``); the script of
:data:`FRONTEND` (shown with the widget, so it runs in Voila and on the static site alike)
merges them into ``localStorage["teachkit:practice"]`` and shows the stored count in the
widget.  Nothing is sent anywhere.  The storage holds::

    {"v": 1, "lessons": {"04": {"total": 4, "keys": ["events-hr", ...],
                                "right": ["events-hr"], "updated": "2025-...Z"}}}

The course home page shows it with :func:`progress_html` (a placeholder per lesson, filled
by :data:`HOME_SCRIPT`, which reads the same key; a lesson never visited shows its number of
questions from :func:`catalogue`).

>>> p = practice_for("01", seed=7)
>>> [q.key for q in p.questions]
['at-risk', 'km-step', 'km-patients', 'median']
>>> prob = p.problem()
>>> check(prob, str(prob.answer)).correct
True
>>> check(prob, "not a number").kind
'unreadable'
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Mapping

import numpy as np
from scipy.special import ndtr

from teachkit.explorers._a11y import COLORS, frontend, panel

LESSONS = ("00", "01", "02", "03", "04", "05", "06", "07")
#: localStorage key of the progress (see the module docstring for its layout).
STORAGE_KEY = "teachkit:practice"
#: Wrong tries after which the worked answer is shown.
TRIES_BEFORE_WORKED = 2


# --------------------------------------------------------------------------------------
# What a question is
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mistake:
    """A common wrong answer: the value the mistake gives (a number, or an option of a
    choice question) and what went wrong (HTML)."""

    value: Any
    why: str


@dataclass(frozen=True)
class Problem:
    """One draw of a question: everything the learner sees and the checker needs.

    ``kind`` is ``"number"`` (an answer typed, right within ``tolerance``) or ``"choice"``
    (one of ``options``).  ``unit`` follows the input ("%", "events"...): with ``"%"`` the
    answer is a percentage.  ``data`` holds the numbers drawn (tests read them); ``seed`` is
    the draw's seed.
    """

    lesson: str
    key: str
    title: str
    prompt: str
    answer: Any
    kind: str = "number"
    tolerance: float = 0.0
    unit: str = ""
    label: str = "Your answer"
    options: tuple = ()
    hint: str = ""
    worked: str = ""
    mistakes: tuple = ()
    data: Mapping = field(default_factory=dict)
    seed: int = 0

    @property
    def tolerance_text(self) -> str:
        """The tolerance in words, shown under the question."""
        if self.kind != "number":
            return ""
        if self.tolerance == 0:
            return "Give a whole number."
        return f"Right within ±{_fmt(self.tolerance)}{_unit_suffix(self.unit)}."


@dataclass(frozen=True)
class Question:
    """A question of a lesson: a key (stable: the progress is stored by it), a title, and
    ``make(rng) -> dict`` giving the :class:`Problem` fields of one draw."""

    lesson: str
    key: str
    title: str
    make: Callable

    def draw(self, seed: int) -> Problem:
        """A fresh problem from ``seed`` (the same seed, the same numbers)."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        rng = np.random.default_rng(int(seed))
        fields = self.make(rng)
        return Problem(lesson=self.lesson, key=self.key, title=self.title, seed=int(seed), **fields)


@dataclass(frozen=True)
class Verdict:
    """What :func:`check` says: ``kind`` is "right", "mistake" (a recognised common wrong
    answer), "wrong", "format" (a percentage given as a proportion or the reverse: not
    counted as a try) or "unreadable" (not counted either)."""

    correct: bool
    kind: str
    message: str
    value: Any = None

    @property
    def counts_as_try(self) -> bool:
        return self.kind in ("right", "mistake", "wrong")


# --------------------------------------------------------------------------------------
# Reading and checking an answer
# --------------------------------------------------------------------------------------

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$", re.I)


def parse_number(text) -> tuple[float, bool]:
    """What a learner typed, as ``(value, percent)``: ``percent`` is True when the text ends
    with "%".  Accepts ``0.75``, ``.75``, ``0,75`` (decimal comma), ``1,234`` (thousands),
    ``75%``, ``3/4``, a Unicode minus and spaces; raises ``ValueError`` otherwise.

    >>> parse_number(" 0,75 "), parse_number("1,234"), parse_number("75 %"), parse_number("3/4")
    ((0.75, False), (1234.0, False), (75.0, True), (0.75, False))
    >>> parse_number("\u22120.5")
    (-0.5, False)
    >>> parse_number("about 3")
    Traceback (most recent call last):
    ...
    ValueError: text must be a number such as 0.75, 75% or 3/4, got 'about 3'
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    raw = text
    s = text.strip().replace("\u2212", "-").replace("\u2009", "").replace("\u00a0", "").replace(" ", "")
    percent = s.endswith("%")
    if percent:
        s = s[:-1]
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    elif s.count(",") == 1 and "." not in s:
        s = s.replace(",", ".")
    if "/" in s and s.count("/") == 1:
        num, den = s.split("/")
        if _NUMBER.match(num) and _NUMBER.match(den) and float(den) != 0:
            return float(Fraction(num) / Fraction(den)), percent
    if not _NUMBER.match(s):
        raise ValueError(f"text must be a number such as 0.75, 75% or 3/4, got {raw!r}")
    value = float(s)
    if not math.isfinite(value):
        raise ValueError(f"text must be a finite number, got {raw!r}")
    return value, percent


_RIGHT = f"<b style='color:{COLORS['right']}'>Right.</b> "
_WRONG = f"<b style='color:{COLORS['wrong']}'>Not quite.</b> "
_NOTE = f"<b style='color:{COLORS['text']}'>Almost.</b> "


def _close(a, b, tol) -> bool:
    return abs(float(a) - float(b)) <= tol + 1e-9 * max(1.0, abs(float(b)))


def check(problem: Problem, response) -> Verdict:
    """Check what the learner typed (a string) or chose (an option) against ``problem``.

    A number is right within the problem's tolerance.  Otherwise the common wrong answers
    are tried, each within the same tolerance, and the first that matches says what went
    wrong; a percentage given as a proportion (or the reverse) is pointed out without
    counting as a try; an answer close to the right one but outside the tolerance gets a
    word about rounding.

    >>> q = Problem("00", "x", "x", "How much?", 61.1, tolerance=0.5, unit="%",
    ...             mistakes=(Mistake(38.9, "That is what was left."),))
    >>> check(q, "61").kind, check(q, "38.9").kind, check(q, "0.611").kind, check(q, "12").kind
    ('right', 'mistake', 'format', 'wrong')
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem, got {type(problem).__name__}")
    if problem.kind == "choice":
        if response is None or (isinstance(response, str) and not response.strip()):
            return Verdict(False, "unreadable", "Choose one of the answers first.")
        if response not in problem.options:
            raise ValueError(f"response must be one of {problem.options!r}, got {response!r}")
        if response == problem.answer:
            return Verdict(True, "right", _RIGHT + _first(problem.worked), response)
        for m in problem.mistakes:
            if m.value == response:
                return Verdict(False, "mistake", _WRONG + m.why, response)
        return Verdict(False, "wrong", _WRONG + "Look again at the hint.", response)

    if response is None or (isinstance(response, str) and not response.strip()):
        return Verdict(False, "unreadable", "Type a number first, then press Check (or Enter).")
    if isinstance(response, str):
        try:
            value, percent = parse_number(response)
        except ValueError:
            return Verdict(False, "unreadable", "I could not read that as a number: type it like "
                           "0.75, 75% or 3/4.")
    else:
        value, percent = float(response), False
    is_percent_question = problem.unit == "%"
    if percent and not is_percent_question:
        value = value / 100.0
    answer, tol = float(problem.answer), problem.tolerance
    unit = _unit_suffix(problem.unit)
    if _close(value, answer, tol):
        return Verdict(True, "right", _RIGHT + _first(problem.worked), value)
    for m in problem.mistakes:
        if _close(value, m.value, tol):
            return Verdict(False, "mistake", _WRONG + m.why, value)
    if is_percent_question and not percent and _close(100 * value, answer, tol):
        return Verdict(False, "format", _NOTE + f"That looks like a proportion ({_fmt(value)}); "
                       f"the question asks for a percentage: {_fmt(100 * value)}%?", value)
    if not is_percent_question and answer != 0 and _close(value / 100.0, answer, tol) and abs(answer) <= 1:
        return Verdict(False, "format", _NOTE + f"That looks like a percentage; the question asks "
                       f"for a proportion between 0 and 1 ({_fmt(value / 100)}?).", value)
    if tol > 0 and _close(value, answer, 10 * tol):
        return Verdict(False, "wrong", _WRONG + f"Close, but not within ±{_fmt(tol)}{unit}: keep "
                       "more decimals until the last step, then round.", value)
    return Verdict(False, "wrong", _WRONG + "That is not it. " + (
        "Open the hint." if problem.hint else ""), value)


def _first(worked: str) -> str:
    """The worked answer's first paragraph (what the right-answer feedback repeats)."""
    m = re.match(r"\s*<p>(.*?)</p>", worked, re.S)
    return m.group(1) if m else ""


# --------------------------------------------------------------------------------------
# Helpers for the question bank
# --------------------------------------------------------------------------------------

def _fmt(x, digits: int = 4) -> str:
    """A number as a learner reads it: up to ``digits`` significant decimals, no float noise.

    >>> _fmt(0.6099999999999999), _fmt(121.0), _fmt(0.00409), _fmt(-0.5)
    ('0.61', '121', '0.00409', '\u22120.5')
    """
    x = float(x)
    if x == int(x) and abs(x) < 1e15:
        text = str(int(x))
    else:
        text = f"{x:.{digits}g}" if abs(x) < 1 else f"{x:.{max(digits, len(str(int(abs(x)))) + 2)}g}"
        if "e" in text:
            text = np.format_float_positional(x, precision=digits, unique=True, fractional=False, trim="-")
    return text.replace("-", "\u2212")


def _unit_suffix(unit: str) -> str:
    if not unit:
        return ""
    return unit if unit == "%" else f" {unit}"


def _table(header, rows, caption=None, align=None) -> str:
    from teachkit._display import html_table

    return html_table(header, [[str(c) for c in r] for r in rows], align=align or "r" * len(header),
                      title=caption)


def _p(*paragraphs) -> str:
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def _distinct(answer, values, tol, gap=2.0):
    """The mistakes whose value is clearly apart from the answer and from each other."""
    kept, seen = [], [float(answer)]
    for m in values:
        v = float(m.value)
        if math.isfinite(v) and all(abs(v - s) > gap * tol + 1e-9 for s in seen):
            kept.append(m)
            seen.append(v)
    return tuple(kept)


def _redraw(rng, make, ok, limit=200):
    """``make(rng)`` until ``ok(result)`` (a draw the question can use)."""
    for _ in range(limit):
        out = make(rng)
        if ok(out):
            return out
    raise RuntimeError("no usable draw in 200 tries")  # pragma: no cover - the generators are wide


def _phi_table(x, rng, width=0.6, step=0.1) -> str:
    """A small table of the standard normal's Phi around ``x`` (start jittered so the table
    does not give x away)."""
    start = math.floor((x - width) / step) * step - step * int(rng.integers(0, 3))
    xs = [round(start + i * step, 2) for i in range(int(2 * width / step) + 4)]
    return _table(["x", "Φ(x)"], [[_fmt(v, 3) if v else "0", f"{float(ndtr(v)):.3f}"] for v in xs],
                  caption="The standard normal Φ(x) (between two rows, interpolate)")


# --------------------------------------------------------------------------------------
# Lesson 00 - the trial in one page
# --------------------------------------------------------------------------------------

def _plan():
    from teachkit import aall1331

    return aall1331.monitoring_plan()


def _q00_information(rng):
    planned = int(round(_plan().events_planned))
    events = int(rng.integers(25, planned - 10))
    answer = 100.0 * events / planned
    mistakes = _distinct(answer, [
        Mistake(100.0 * (planned - events) / planned,
                f"That is the share still to come ({planned} − {events} = {planned - events} events). "
                "The information at the look is the share of the planned events that <i>has happened</i>."),
        Mistake(100.0 * planned / events,
                "The fraction is upside down: divide the events seen by the events planned."),
    ], 0.5)
    return dict(
        prompt=_p(f"A trial planned to wait for <b>{planned} events</b>. At an interim look, "
                  f"<b>{events} events</b> have happened.",
                  "What percentage of the planned information is that?"),
        answer=answer, tolerance=0.5, unit="%", label="Information at the look (%)",
        hint=_p("The information of a survival trial grows with its events: divide the events seen by the "
                "events planned, and multiply by 100."),
        worked=_p(f"{events} / {planned} = {events / planned:.3f}, so about <b>{answer:.1f}%</b> of the "
                  "planned information.",
                  "AALL1331's June 2019 look came at 80 of 131 events: 61%."),
        mistakes=mistakes, data={"events": events, "planned": planned})


def _q00_risk_reduction(rng):
    hr = round(float(rng.uniform(0.45, 0.9)), 2)
    answer = 100.0 * (1.0 - hr)
    mistakes = _distinct(answer, [
        Mistake(100.0 * hr, f"{hr * 100:.0f}% is the risk <i>relative</i> to chemotherapy (the hazard ratio "
                "itself). The reduction is what is taken away: 100% minus that."),
        Mistake(100.0 * (1.0 / hr - 1.0), "That compares the arms the other way round (chemotherapy's risk "
                "relative to blinatumomab's). Start from the hazard ratio as given."),
    ], 0.5)
    return dict(
        prompt=_p(f"A trial reports a hazard ratio of <b>{hr:.2f}</b> for blinatumomab against chemotherapy.",
                  "At any moment, by what percentage is the risk of an event lower for a patient on "
                  "blinatumomab who is still event-free?"),
        answer=answer, tolerance=0.5, unit="%", label="Lower risk (%)",
        hint=_p("A hazard ratio of 0.80 means the risk at any moment is 80% of chemotherapy's."),
        worked=_p(f"The risk is {hr:.2f} times chemotherapy's, so it is lower by 1 − {hr:.2f} = "
                  f"{1 - hr:.2f}: <b>{answer:.0f}%</b>.",
                  "This is a statement about the risk at each moment, not about the share of patients who "
                  "relapse over the whole study."),
        mistakes=mistakes, data={"hazard_ratio": hr})


_CROSSED = ("Yes: the trial may stop for benefit", "No: the boundary was not crossed")


def _q00_crossed(rng):
    boundary = float(rng.choice([0.0001, 0.001, 0.003, 0.004, 0.006, 0.01, 0.02, 0.025]))
    crossed = bool(rng.random() < 0.4)
    p = round(boundary * float(rng.uniform(0.1, 0.8)), 5) if crossed else \
        round(float(rng.choice([1.5, 3, 6, 10, 15])) * boundary, 4)
    p = max(p, 0.00001)
    answer = _CROSSED[0] if p < boundary else _CROSSED[1]
    wrong = _CROSSED[1] if answer == _CROSSED[0] else _CROSSED[0]
    why = (f"P = {_fmt(p)} is <b>below</b> the boundary {_fmt(boundary)}: results this strong would be rare "
           "by chance, so the rule is met." if answer == _CROSSED[0] else
           f"P = {_fmt(p)} is <b>above</b> the boundary {_fmt(boundary)}: a smaller P means stronger evidence, "
           "and stopping for benefit needs a P below the boundary.")
    return dict(
        kind="choice", options=_CROSSED,
        prompt=_p(f"At an interim look the one-sided P for the primary end point is <b>{_fmt(p)}</b>. The "
                  f"efficacy boundary at this look is a one-sided P of <b>{_fmt(boundary)}</b>.",
                  "Is the efficacy boundary crossed?"),
        answer=answer, label="Is the boundary crossed?",
        hint=_p("The boundary is a threshold for the P value: the evidence must be at least that strong, "
                "so the P must be at most that small."),
        worked=_p(why),
        mistakes=(Mistake(wrong, why),), data={"p": p, "boundary": boundary})


_INCLUDES = ("Yes: no difference (HR = 1) is still compatible with the data",
             "No: the whole interval lies below 1")


def _q00_interval(rng):
    from teachkit import sequential

    events = int(rng.integers(60, 200))
    z = round(float(rng.uniform(0.8, 3.5)), 2)
    est = sequential.hazard_ratio_from_z(z, events)
    lo, hi = round(est.ci_lower, 2), round(est.ci_upper, 2)
    if abs(hi - 1.0) < 0.015:   # too close to call from two decimals
        hi = 0.97 if est.ci_upper < 1 else 1.03
    answer = _INCLUDES[0] if hi >= 1 else _INCLUDES[1]
    wrong = _INCLUDES[1] if answer == _INCLUDES[0] else _INCLUDES[0]
    why = (f"The interval runs from {lo:.2f} to {hi:.2f}: it {'reaches' if hi >= 1 else 'stays below'} 1. "
           + ("Values of no benefit are still compatible with the data, so the result is not statistically "
              "significant at the two-sided 5% level, which is not the same as 'no effect'."
              if hi >= 1 else "Every hazard ratio compatible with the data favours blinatumomab."))
    return dict(
        kind="choice", options=_INCLUDES,
        prompt=_p(f"A final analysis reports a hazard ratio of <b>{est.estimate:.2f}</b> "
                  f"(95% confidence interval <b>{lo:.2f} to {hi:.2f}</b>).",
                  "Is 'no difference between the arms' compatible with these data?"),
        answer=answer, label="Is no difference compatible?",
        hint=_p("No difference is a hazard ratio of exactly 1. Is 1 inside the interval?"),
        worked=_p(why), mistakes=(Mistake(wrong, why),),
        data={"estimate": est.estimate, "ci_lower": lo, "ci_upper": hi, "events": events})


# --------------------------------------------------------------------------------------
# Lesson 01 - censoring and Kaplan-Meier
# --------------------------------------------------------------------------------------

def _patients(rng, n, max_week=30):
    """n patients: distinct whole weeks, relapsed (1) or censored (0)."""
    times = np.sort(rng.choice(np.arange(1, max_week + 1), size=n, replace=False))
    events = (rng.random(n) < 0.65).astype(int)
    return times, events


def _patient_table(times, events, caption="The patients"):
    rows = [[f"{i + 1}", f"{t}", "relapsed" if e else "still in remission (censored)"]
            for i, (t, e) in enumerate(zip(times, events))]
    return _table(["child", "week", "what happened"], rows, caption=caption, align="rrl")


def _q01_at_risk(rng):
    from teachkit import survival

    def make(rng):
        times, events = _patients(rng, int(rng.integers(7, 11)))
        # an event time with a censored child before it and another child after it
        ok = [j for j in range(len(times)) if events[j] and np.any((events[:j] == 0)) and j < len(times) - 1]
        if not ok:
            return None
        j = int(rng.choice(ok))
        return times, events, j

    times, events, j = _redraw(rng, make, lambda out: out is not None)
    t = int(times[j])
    km = survival.kaplan_meier(times, events)
    answer = int(km.n_at_risk[np.searchsorted(km.time, t)])
    censored_before = int(np.sum((times < t) & (events == 0)))
    mistakes = _distinct(answer, [
        Mistake(int(np.sum(times > t)), f"The child whose week is exactly {t} is still at risk at week {t}: "
                "at risk means 'still followed just before that week', including whoever relapses then."),
        Mistake(len(times) - int(np.sum((times < t) & (events == 1))),
                f"That keeps the {censored_before} censored child{'ren' if censored_before > 1 else ''} at risk "
                "after they left the study. A censored child counts until their last week, then leaves."),
        Mistake(len(times), "That counts every child, also those who relapsed or left before this week."),
    ], 0.0, gap=0.5)
    return dict(
        prompt=_p("A small study follows children in remission, week by week.")
        + _patient_table(times, events)
        + _p(f"How many children are <b>at risk</b> at week <b>{t}</b>?"),
        answer=answer, tolerance=0.0, unit="children", label=f"At risk at week {t}",
        hint=_p(f"At risk at week {t}: still followed at the start of week {t}, that is, everyone whose own "
                f"week is {t} or later, whether they relapse or are censored then."),
        worked=_p(f"The children with week {t} or later: <b>{answer}</b>.",
                  f"Those with an earlier week have left: they relapsed or were censored before week {t}."),
        mistakes=mistakes, data={"times": times.tolist(), "events": events.tolist(), "week": t})


def _q01_km_step(rng):
    from teachkit import survival

    def make(rng):
        n1 = int(rng.integers(10, 22))
        rows, n = [], n1
        t = 0
        times, events = [], []
        for _ in range(3):
            t += int(rng.integers(2, 7))
            d = int(rng.choice([1, 1, 1, 2]))
            c = int(rng.integers(0, 3))
            rows.append((t, n, d))
            times += [t] * d
            events += [1] * d
            times += [t + 1] * c       # censored in the week after the event
            events += [0] * c
            n -= d + c
            t += 1
        times += [t + 5] * n
        events += [0] * n
        return rows, np.array(times), np.array(events)

    rows, times, events = _redraw(rng, make, lambda out: out[0][-1][1] > out[0][-1][2] + 1)
    km = survival.kaplan_meier(times, events)
    t3 = rows[-1][0]
    answer = float(km.survival_at(t3))
    tol = 0.005
    mistakes = _distinct(answer, [
        Mistake(1 - sum(d / n for _, n, d in rows), "The chances of getting past each week <b>multiply</b>; "
                "adding the drops d/n is close only while they are small."),
        Mistake(1 - rows[-1][2] / rows[-1][1], f"That is only the last step, 1 − {rows[-1][2]}/{rows[-1][1]}. "
                "To get past this week a child must get past every earlier event week too: multiply all the steps."),
        Mistake(1 - sum(d for _, _, d in rows) / rows[0][1],
                f"That divides all the relapses by the {rows[0][1]} children of the start. Children censored "
                "along the way are no longer at risk: each step uses its own number at risk."),
    ], tol)
    table = _table(["week", "children at risk", "relapses that week"], [list(r) for r in rows],
                   caption="Kaplan-Meier steps (only the weeks with a relapse)")
    factors = " × ".join(f"(1 − {d}/{n})" for _, n, d in rows)
    return dict(
        prompt=_p("The table gives, for each week in which a child relapsed, the children at risk and the "
                  "relapses.") + table
        + _p(f"What is the Kaplan-Meier estimate of staying in remission past week <b>{t3}</b>?"),
        answer=answer, tolerance=tol, label=f"S({t3}), a number between 0 and 1",
        hint=_p("Each row is a step: the chance of getting past that week is 1 − relapses/at risk. Getting "
                "past the last week means getting past all of them: multiply."),
        worked=_p(f"S({t3}) = {factors} = <b>{answer:.3f}</b>.",
                  "The numbers at risk fall between rows also because some children were censored: they "
                  "leave the count without making the curve drop."),
        mistakes=mistakes, data={"rows": [list(r) for r in rows], "times": times.tolist(),
                                 "events": events.tolist()})


def _q01_km_patients(rng):
    from teachkit import survival

    def make(rng):
        times, events = _patients(rng, int(rng.integers(5, 8)), max_week=15)
        # the question's week: an event time after at least one censored child, and S not 0
        ok = [j for j in range(len(times)) if events[j] and np.any(events[:j] == 0)
              and np.sum(events[:j + 1]) < j + 1 and j < len(times) - 1]
        if not ok:
            return None
        return times, events, int(times[int(rng.choice(ok))])

    times, events, t = _redraw(rng, make, lambda out: out is not None)
    right = float(survival.kaplan_meier(times, events).survival_at(t))
    late = np.where(events == 1, times, times.max() + 1)      # censored kept to the end
    kept = float(survival.kaplan_meier(late, events).survival_at(t))
    as_relapse = float(survival.kaplan_meier(times, np.ones_like(events)).survival_at(t))
    dropped = events == 1
    if np.sum(dropped) >= 1:
        dropped_value = float(survival.kaplan_meier(times[dropped], events[dropped]).survival_at(t))
    else:  # pragma: no cover - every draw has relapses
        dropped_value = float("nan")
    naive = 1 - float(np.sum((times <= t) & (events == 1))) / len(times)
    tol = 0.005
    mistakes = _distinct(right, [
        Mistake(kept, "That keeps the censored children at risk after they left the study. They count "
                "only until their last week; after it they are no longer at risk."),
        Mistake(as_relapse, "That counts the censored children as relapses. Censored means 'still in "
                "remission when last seen': it must not make the curve drop."),
        Mistake(dropped_value, "That leaves the censored children out altogether. They were at risk, and "
                "in remission, until their last week: leaving them out throws that good news away."),
        Mistake(naive, "That is 1 − relapses/children, as if everyone had been followed to this week. "
                "With censoring, each relapse week has its own number at risk: multiply the steps."),
    ], tol)
    steps = [(int(s), int(np.sum(times >= s))) for s in times[(events == 1) & (times <= t)]]
    factors = " × ".join(f"(1 − 1/{n})" for _, n in steps)
    return dict(
        prompt=_p("Some children are followed for a few weeks.") + _patient_table(times, events)
        + _p(f"What is the Kaplan-Meier estimate of staying in remission past week <b>{t}</b>?"),
        answer=right, tolerance=tol, label=f"S({t}), a number between 0 and 1",
        hint=_p("Go week by week. At each relapse, the chance of getting past it is 1 − 1/(children still "
                "followed then). A censored child leaves the count after their week without a drop."),
        worked=_p(f"S({t}) = {factors} = <b>{right:.3f}</b>.",
                  "At risk at each relapse: " + "; ".join(f"week {s}: {n}" for s, n in steps) + "."),
        mistakes=mistakes, data={"times": times.tolist(), "events": events.tolist(), "week": t})


def _q01_median(rng):
    from teachkit import survival

    def make(rng):
        times, events = _patients(rng, int(rng.integers(9, 14)), max_week=40)
        km = survival.kaplan_meier(times, events)
        steps = km.n_events > 0
        s = km.survival[steps]
        if not np.any(s < 0.5) or np.any(np.abs(s - 0.5) < 0.02) or not math.isfinite(km.median()):
            return None
        return km, steps

    km, steps = _redraw(rng, make, lambda out: out is not None)
    weeks, surv = km.time[steps], km.survival[steps]
    answer = float(km.median())
    first_below = int(np.argmax(surv < 0.5))
    mistakes = [Mistake(float(weeks[first_below - 1]),
                        "That is the last week with the curve still above one half. The median is the first "
                        "week at which it falls to one half or below.")] if first_below > 0 else []
    closest = float(weeks[int(np.argmin(np.abs(surv - 0.5)))])
    mistakes.append(Mistake(closest, "That is the week whose estimate is closest to 0.5. The median is the first "
                            "week at which the curve is at or below one half, however close the row above is."))
    table = _table(["week", "estimated S (still in remission)"],
                   [[f"{int(w)}", f"{s:.3f}"] for w, s in zip(weeks, surv)],
                   caption="A Kaplan-Meier estimate (weeks with a relapse)")
    return dict(
        prompt=_p("Here is a Kaplan-Meier estimate, one row per week in which someone relapsed.") + table
        + _p("What is the <b>median</b> time in remission, in weeks?"),
        answer=answer, tolerance=0.0, unit="weeks", label="Median (weeks)",
        hint=_p("The median is where the curve reaches one half: the first week at which S is 0.5 or less."),
        worked=_p(f"The first row at or below 0.5 is week {answer:g} (S = {surv[first_below]:.3f}): the median is "
                  f"<b>{answer:g} weeks</b>."),
        mistakes=_distinct(answer, mistakes, 0.0, gap=0.5),
        data={"weeks": weeks.tolist(), "survival": surv.tolist()})


# --------------------------------------------------------------------------------------
# Lesson 02 - comparing curves
# --------------------------------------------------------------------------------------

def _q02_o_minus_e(rng):
    from teachkit import survival

    n1, n2 = int(rng.integers(6, 25)), int(rng.integers(6, 25))
    d = int(rng.integers(1, 5))
    o1 = int(rng.integers(0, d + 1))
    # one event time: o1 events among n1 on blinatumomab, d - o1 among n2 on chemotherapy;
    # everyone else censored a week later (no second event time)
    time = np.r_[np.ones(o1), np.full(n1 - o1, 2.0), np.ones(d - o1), np.full(n2 - (d - o1), 2.0)]
    event = np.r_[np.ones(o1), np.zeros(n1 - o1), np.ones(d - o1), np.zeros(n2 - (d - o1))]
    arm = np.array(["blinatumomab"] * n1 + ["chemotherapy"] * n2)
    lr = survival.logrank_test(time, event, arm, treatment="blinatumomab")
    i = list(lr.groups).index("blinatumomab")
    answer = float(lr.observed[i] - lr.expected[i])
    e = d * n1 / (n1 + n2)
    tol = 0.01
    mistakes = _distinct(answer, [
        Mistake(-answer, "The sign is reversed: that is E − O. O − E is observed minus expected, negative "
                "when blinatumomab has fewer events than expected."),
        Mistake(o1 - d / 2, "That expects half the events on each arm. Expected events follow the numbers at "
                f"risk: blinatumomab has {n1} of the {n1 + n2} patients at risk."),
        Mistake(o1 - d * n1 / n2, f"The share at risk is {n1} out of all {n1 + n2} at risk, not {n1}/{n2}."),
    ], tol)
    table = _table(["", "at risk", "events"], [["Blinatumomab", n1, o1], ["Chemotherapy", n2, d - o1],
                                               ["Both", n1 + n2, d]],
                   caption="One event time of a trial", align="lrr")
    return dict(
        prompt=_p("At one event time of a trial:") + table
        + _p("If the arms were alike, the events would be shared in proportion to the patients at risk. "
             "What is <b>O − E</b> for blinatumomab at this time (observed minus expected events)?"),
        answer=answer, tolerance=tol, label="O − E for blinatumomab",
        hint=_p(f"Expected on blinatumomab: E = (all events) × (blinatumomab's share of those at risk) = "
                f"{d} × {n1}/{n1 + n2}."),
        worked=_p(f"E = {d} × {n1}/{n1 + n2} = {e:.3f}, so O − E = {o1} − {e:.3f} = <b>{answer:.2f}</b>.",
                  "The log-rank test adds these up over all event times; a negative total means fewer events "
                  "on blinatumomab than expected."),
        mistakes=mistakes, data={"n1": n1, "n2": n2, "d": d, "o1": o1})


def _q02_p_from_z(rng):
    z = round(float(rng.uniform(0.4, 2.9)), 2)
    phi = float(ndtr(z))
    answer = 1.0 - phi
    tol = 0.0005
    mistakes = _distinct(answer, [
        Mistake(2 * (1 - round(phi, 4)), "That is the two-sided P (both tails). The one-sided P counts only "
                "results at least this favourable to blinatumomab: one tail."),
        Mistake(round(phi, 4), "That is Φ(Z), the chance of a Z <i>below</i> the one seen. The P value is the "
                "chance of a Z at least this large: 1 − Φ(Z)."),
    ], tol)
    return dict(
        prompt=_p(f"A log-rank test gives <b>Z = {z:.2f}</b> (positive: fewer events than expected on "
                  f"blinatumomab). For a standard normal, Φ({z:.2f}) = {phi:.4f}.",
                  "What is the <b>one-sided P</b> (benefit of blinatumomab)?"),
        answer=answer, tolerance=tol, label="One-sided P",
        hint=_p("The one-sided P is the chance, if the arms were alike, of a Z at least as large as the one seen."),
        worked=_p(f"P = 1 − Φ({z:.2f}) = 1 − {phi:.4f} = <b>{answer:.4f}</b>."),
        mistakes=mistakes, data={"z": z, "phi": phi})


def _q02_hr_from_z(rng):
    from teachkit import sequential

    events = int(rng.integers(40, 220))
    z = round(float(rng.uniform(0.5, 3.0)), 2)
    answer = sequential.hazard_ratio_from_z(z, events).estimate
    tol = 0.005
    root = math.sqrt(events)
    mistakes = _distinct(answer, [
        Mistake(math.exp(2 * z / root), "The sign is reversed: a positive Z favours blinatumomab, so its "
                "hazard ratio is below 1: exp(−2Z/√D)."),
        Mistake(math.exp(-z / root), "The factor 2 is missing: with two equal arms the log hazard ratio is "
                "−Z divided by √(D/4), that is −2Z/√D."),
        Mistake(1 - 2 * z / root, "That is −2Z/√D added to 1: the formula gives the <i>logarithm</i> of the "
                "hazard ratio, so take exp()."),
    ], tol)
    return dict(
        prompt=_p(f"After <b>{events} events</b> (two arms of equal size), the log-rank <b>Z = {z:.2f}</b> "
                  "(positive: favours blinatumomab).",
                  "Estimate the hazard ratio: log HR ≈ −2Z/√D."),
        answer=answer, tolerance=tol, label="Hazard ratio",
        hint=_p(f"√{events} = {root:.3f}. Compute −2 × {z:.2f} / {root:.3f}, then take exp() of it."),
        worked=_p(f"log HR = −2 × {z:.2f} / √{events} = {-2 * z / root:.4f}, so HR = exp({-2 * z / root:.4f}) = "
                  f"<b>{answer:.2f}</b>."),
        mistakes=mistakes, data={"events": events, "z": z})


_SIGNIFICANT = ("Yes: significant at the two-sided 5% level", "No: not significant at that level")


def _q02_significant(rng):
    from teachkit import sequential

    events = int(rng.integers(40, 250))
    z = round(float(rng.uniform(0.6, 3.4)), 2)
    est = sequential.hazard_ratio_from_z(z, events)
    lo, hi = round(est.ci_lower, 2), round(est.ci_upper, 2)
    if abs(hi - 1.0) < 0.015:
        hi = 0.97 if est.ci_upper < 1 else 1.04
    answer = _SIGNIFICANT[0] if hi < 1 else _SIGNIFICANT[1]
    wrong = _SIGNIFICANT[1] if answer == _SIGNIFICANT[0] else _SIGNIFICANT[0]
    why = (f"The 95% interval {lo:.2f}-{hi:.2f} " + ("lies wholly below 1: HR = 1 is outside it, so the "
           "difference is significant at the two-sided 5% level." if hi < 1 else
           "contains 1 (no difference): the data cannot rule it out at the two-sided 5% level. "
           "Not significant is not 'no effect'."))
    return dict(
        kind="choice", options=_SIGNIFICANT,
        prompt=_p(f"A Cox model gives a hazard ratio of <b>{est.estimate:.2f}</b>, 95% confidence interval "
                  f"<b>{lo:.2f} to {hi:.2f}</b>.", "Is the difference statistically significant at the two-sided "
                  "5% level?"),
        answer=answer, label="Significant?",
        hint=_p("A 95% interval that excludes the value of no difference (HR = 1) goes with a two-sided P "
                "below 5%."), worked=_p(why), mistakes=(Mistake(wrong, why),),
        data={"estimate": est.estimate, "ci_lower": lo, "ci_upper": hi})


# --------------------------------------------------------------------------------------
# Lesson 03 - risk groups and stratification
# --------------------------------------------------------------------------------------

_SITE_WORDS = {"marrow": "in the bone marrow", "combined": "in the marrow and outside it (combined)",
               "extramedullary": "only outside the marrow (isolated extramedullary)"}
_MRDS = (0.01, 0.03, 0.05, 0.08, 0.2, 0.5, 1.0, 3.0, 10.0)


def _vignette(rng, allow_failure=True):
    site = str(rng.choice(["marrow", "marrow", "combined", "extramedullary"]))
    months = int(rng.integers(8, 30)) if site == "extramedullary" else int(rng.integers(10, 60))
    mrd = float(rng.choice(_MRDS))
    blasts = 30 if (allow_failure and rng.random() < 0.12) else int(rng.integers(0, 5))
    return site, months, mrd, blasts


def _describe(site, months, mrd, blasts):
    return (f"relapse {_SITE_WORDS[site]}, {months} months after diagnosis; after reinduction, "
            f"MRD {_fmt(mrd)}% and {blasts}% blasts in the marrow")


def _risk_mistake(site, months, mrd, blasts, chosen) -> str:
    from teachkit import risk

    right = risk.explain_risk_group(site, months, mrd, blasts)
    marrow = site != "extramedullary"
    limit = risk.MARROW_LATE_MONTHS if marrow else risk.EXTRAMEDULLARY_LATE_MONTHS
    if right.group is risk.RiskGroup.EARLY_TREATMENT_FAILURE:
        return f"With {blasts}% blasts left after reinduction (more than 25%), the patient is an early treatment " \
               "failure, whatever the timing or MRD."
    if chosen == risk.RiskGroup.EARLY_TREATMENT_FAILURE.value:
        return f"Early treatment failure needs more than 25% blasts after reinduction; here there are {blasts}%."
    if right.group is risk.RiskGroup.HIGH:
        if not marrow and months >= risk.EXTRAMEDULLARY_LATE_MONTHS:  # pragma: no cover - high needs < 18
            pass
        return (f"A {'marrow' if marrow else 'isolated extramedullary'} relapse before {limit:g} months is "
                "<b>high</b> risk whatever the MRD: MRD only splits the late relapses.")
    if chosen == risk.RiskGroup.HIGH.value:
        extra = (" For an isolated extramedullary relapse the cut-off is 18 months, not 36."
                 if not marrow and months < risk.MARROW_LATE_MONTHS else "")
        return f"At {months} months the relapse is late (at least {limit:g} months), so it is not high risk.{extra}"
    if right.group is risk.RiskGroup.INTERMEDIATE:
        return f"MRD {_fmt(mrd)}% is at least 0.1%: a late relapse with that much left is <b>intermediate</b>."
    return f"MRD {_fmt(mrd)}% is below 0.1%: a late relapse with so little left is <b>low</b> risk."


def _q03_risk_group(rng):
    from teachkit import risk

    site, months, mrd, blasts = _vignette(rng)
    answer = risk.assign_risk_group(site, months, mrd=mrd, marrow_blasts=blasts).value
    options = tuple(g.value for g in risk.RiskGroup)
    explained = risk.explain_risk_group(site, months, mrd, blasts)
    return dict(
        kind="choice", options=options,
        prompt=_p(f"A patient's leukaemia came back: {_describe(site, months, mrd, blasts)}.",
                  "Which AALL1331 risk group is this patient in?"),
        answer=answer, label="Risk group",
        hint=_p("In order: more than 25% blasts after reinduction is an early treatment failure. Otherwise, "
                "a marrow relapse before 36 months, or an isolated extramedullary one before 18 months, is high "
                "risk. A later relapse is intermediate with MRD of 0.1% or more, low below it."),
        worked=_p(f"<b>{answer}</b>: {html.escape(explained.reason)}."),
        mistakes=tuple(Mistake(o, _risk_mistake(site, months, mrd, blasts, o)) for o in options if o != answer),
        data={"site": site, "months": months, "mrd": mrd, "blasts": blasts})


def _q03_stratum(rng):
    from teachkit import risk

    def make(rng):
        site, months, mrd, blasts = _vignette(rng, allow_failure=False)
        group = risk.assign_risk_group(site, months, mrd=mrd, marrow_blasts=blasts)
        return (site, months, mrd, blasts) if group in (risk.RiskGroup.HIGH, risk.RiskGroup.INTERMEDIATE) else None

    site, months, mrd, blasts = _redraw(rng, make, lambda out: out is not None)
    answer = risk.randomization_stratum(site, months, mrd=mrd, marrow_blasts=blasts).value
    options = tuple(s.value for s in risk.Stratum)
    marrow = site != "extramedullary"

    def why(option):
        if answer == risk.Stratum.INTERMEDIATE.value:
            return "The patient is intermediate risk (a late relapse with MRD of 0.1% or more): intermediate " \
                   "risk is one stratum, not split further."
        if option == risk.Stratum.INTERMEDIATE.value:
            return f"At {months} months the relapse is early: high risk, not intermediate."
        if not marrow:
            return "An isolated extramedullary relapse before 18 months is its own high-risk stratum; only marrow " \
                   "relapses are split by time and MRD."
        if option == risk.Stratum.HIGH_EXTRAMEDULLARY.value:
            return "This is a marrow relapse (combined counts as marrow), not an isolated extramedullary one."
        band = "<18 mo" if months < risk.EXTRAMEDULLARY_LATE_MONTHS else "18-36 mo"
        if band not in option:
            return f"At {months} months the time band is {'under 18' if band == '<18 mo' else '18 to 36'} months."
        return f"MRD {_fmt(mrd)}% is {'at least' if mrd >= risk.MRD_THRESHOLD_PERCENT else 'below'} 0.1%."

    return dict(
        kind="choice", options=options,
        prompt=_p(f"A patient randomized in AALL1331: {_describe(site, months, mrd, blasts)}.",
                  "In which randomization stratum was the coin tossed for this patient?"),
        answer=answer, label="Stratum",
        hint=_p("First the risk group (high or intermediate). Intermediate is one stratum. High risk splits by "
                "site (isolated extramedullary, or marrow), and a marrow relapse by time from diagnosis "
                "(under 18 or 18-36 months) and MRD (under 0.1%, or 0.1% and more)."),
        worked=_p(f"<b>{answer}</b>: " + _stratum_reason(site, months, mrd)),
        mistakes=tuple(Mistake(o, why(o)) for o in options if o != answer),
        data={"site": site, "months": months, "mrd": mrd, "blasts": blasts})


def _stratum_reason(site, months, mrd) -> str:
    from teachkit import risk

    if risk.assign_risk_group(site, months, mrd=mrd) is risk.RiskGroup.INTERMEDIATE:
        return f"a late relapse ({months} months) with MRD {_fmt(mrd)}%, at least 0.1%: intermediate risk, one stratum."
    if site == "extramedullary":
        return f"an isolated extramedullary relapse at {months} months, before 18: high risk, its own stratum."
    band = "under 18 months" if months < risk.EXTRAMEDULLARY_LATE_MONTHS else "18 to 36 months"
    level = "at least" if mrd >= risk.MRD_THRESHOLD_PERCENT else "below"
    return (f"a marrow relapse at {months} months (high risk, time band {band}) with MRD {_fmt(mrd)}%, "
            f"{level} 0.1%.")


def _q03_count_high(rng):
    from teachkit import risk

    def make(rng):
        patients = [_vignette(rng, allow_failure=False) for _ in range(6)]
        groups = [risk.assign_risk_group(s, m, mrd=d, marrow_blasts=b) for s, m, d, b in patients]
        right = sum(g is risk.RiskGroup.HIGH for g in groups)
        cut18 = sum((m < 18) for s, m, d, b in patients)                      # 18 months for every site
        by_mrd = sum((d >= risk.MRD_THRESHOLD_PERCENT) for s, m, d, b in patients)   # MRD decides
        if len({right, cut18, by_mrd}) < 3:
            return None
        return patients, right, cut18, by_mrd

    patients, answer, cut18, by_mrd = _redraw(rng, make, lambda out: out is not None)
    rows = [[f"{i + 1}", {"marrow": "marrow", "combined": "combined", "extramedullary": "isolated extramedullary"}[s],
             f"{m}", f"{_fmt(d)}%"] for i, (s, m, d, b) in enumerate(patients)]
    table = _table(["patient", "site of relapse", "months from diagnosis", "MRD after reinduction"], rows,
                   caption="Six patients (none with more than 25% blasts)", align="rlrr")
    high = [i + 1 for i, (s, m, d, b) in enumerate(patients)
            if risk.assign_risk_group(s, m, mrd=d, marrow_blasts=b) is risk.RiskGroup.HIGH]
    return dict(
        prompt=table + _p("How many of these patients are <b>high risk</b>?"),
        answer=answer, tolerance=0.0, unit="patients", label="High-risk patients",
        hint=_p("High risk depends on the site and the time only: a marrow (or combined) relapse before 36 "
                "months, or an isolated extramedullary relapse before 18 months."),
        worked=_p(f"<b>{answer}</b>: patient{'s' if len(high) != 1 else ''} "
                  f"{', '.join(map(str, high)) or 'none'}. MRD does not make a patient high risk: it splits the "
                  "late relapses into intermediate and low."),
        mistakes=(Mistake(cut18, "That uses 18 months for every site. The 18-month cut-off is for isolated "
                          "extramedullary relapses; a marrow relapse is early (high risk) before 36 months."),
                  Mistake(by_mrd, "That sorts by MRD. MRD only splits the <i>late</i> relapses into "
                          "intermediate and low; an early relapse is high risk whatever its MRD.")),
        data={"patients": [list(p) for p in patients]})


# --------------------------------------------------------------------------------------
# Lesson 04 - planning: how many events
# --------------------------------------------------------------------------------------

def _q04_events_hr(rng):
    from teachkit import design

    plan = _plan()
    base_hr, alpha, power = plan.hazard_ratio, plan.alpha, plan.power
    base = design.events_required(base_hr, alpha=alpha, power=power)

    def make(rng):
        return round(float(rng.choice(np.r_[np.arange(0.45, 0.56, 0.01), np.arange(0.61, 0.81, 0.01)])), 2)

    hr = make(rng)
    answer = float(design.events_required(hr, alpha=alpha, power=power).events)
    tol = 1.0
    ratio = math.log(base_hr) / math.log(hr)
    mistakes = _distinct(answer, [
        Mistake(base.events * ratio, "The events grow with the <b>square</b> of the ratio of the logs: "
                f"(log {base_hr} / log {hr})² = {ratio ** 2:.3f}, not {ratio:.3f}."),
        Mistake(base.events / ratio ** 2, "The ratio is upside down: a hazard ratio closer to 1 is a smaller "
                "effect and needs <i>more</i> events."),
        Mistake(base.events * ((1 - base_hr) / (1 - hr)) ** 2, "Schoenfeld's formula has the logarithm of the "
                "hazard ratio, not 1 − HR: (log HR)² in the denominator."),
    ], tol)
    return dict(
        prompt=_p(f"With a one-sided alpha of {alpha:g} and {power:.0%} power (one look at the data, two equal "
                  f"arms), a trial hoping for a hazard ratio of {base_hr:g} needs <b>{base.events:.1f} events</b>.",
                  f"How many events does it need if it hopes for a hazard ratio of <b>{hr:.2f}</b> instead?"),
        answer=answer, tolerance=tol, unit="events", label="Events needed",
        hint=_p("In Schoenfeld's formula only (log HR)² changes: D = 4 (z<sub>1−α</sub> + z<sub>1−β</sub>)² / "
                f"(log HR)². So multiply {base.events:.1f} by (log {base_hr:g} / log {hr:.2f})²."),
        worked=_p(f"{base.events:.1f} × (log {base_hr:g} / log {hr:.2f})² = {base.events:.1f} × "
                  f"({math.log(base_hr):.4f} / {math.log(hr):.4f})² = <b>{answer:.1f} events</b>.",
                  "A hazard ratio closer to 1 is a smaller effect: harder to tell from chance, so more events."),
        mistakes=mistakes, data={"hazard_ratio": hr, "base_events": float(base.events)})


def _q04_event_probability(rng):
    from teachkit import design

    s2 = round(float(rng.uniform(0.35, 0.75)), 2)
    years = float(rng.choice([1.0, 1.5, 2.5, 3.0, 4.0]))
    lam = design.hazard_from_survival(s2, 2)
    answer = 100.0 * float(design.event_probability(years, lam))
    tol = 0.5
    mistakes = _distinct(answer, [
        Mistake(100 * (1 - s2), f"That is the share with an event by <b>2</b> years. The question asks about "
                f"{_fmt(years)} years: 1 − S({_fmt(years)}), with S(t) = {s2}^(t/2) under a constant hazard."),
        Mistake(100 * (1 - s2) * years / 2, "Events do not accumulate in a straight line: with a constant "
                "hazard the curve S(t) = e^(−λt) bends, so scale the hazard, not the share."),
        Mistake(100 * s2 ** (years / 2), "That is the share still event-free. The share with an event is 1 minus it."),
    ], tol)
    return dict(
        prompt=_p(f"Disease-free survival at 2 years is <b>{s2:.0%}</b> on chemotherapy. Assume a constant "
                  "hazard (exponential survival).",
                  f"What percentage of patients followed for <b>{_fmt(years)} years</b> has an event?"),
        answer=answer, tolerance=tol, unit="%", label="Patients with an event (%)",
        hint=_p(f"A constant hazard: λ = −ln S(2) / 2, and S(t) = e^(−λt). So S({_fmt(years)}) = "
                f"{s2}^({_fmt(years)}/2); the share with an event is 1 − S({_fmt(years)})."),
        worked=_p(f"λ = −ln {s2} / 2 = {lam:.4f} a year; S({_fmt(years)}) = e^(−{lam:.4f} × {_fmt(years)}) = "
                  f"{math.exp(-lam * years):.4f}, so <b>{answer:.1f}%</b> have an event."),
        mistakes=mistakes, data={"s2": s2, "years": years})


def _q04_patients(rng):
    events = int(rng.integers(80, 200))
    p = round(float(rng.uniform(0.35, 0.8)), 2)
    answer = events / p
    tol = 1.0
    mistakes = _distinct(answer, [
        Mistake(events * p, f"Each patient gives an event with probability {p:.2f}: the patients needed are "
                "<i>more</i> than the events, so divide by it."),
        Mistake(events / (1 - p), f"{1 - p:.2f} is the chance of <i>no</i> event by the analysis; divide by "
                f"the chance of an event, {p:.2f}."),
    ], tol)
    return dict(
        prompt=_p(f"A trial needs <b>{events} events</b>. By the analysis, each patient will have had an event "
                  f"with probability <b>{p:.2f}</b>.", "About how many patients must it enrol?"),
        answer=answer, tolerance=tol, unit="patients", label="Patients needed",
        hint=_p("Expected events = patients × probability of an event. Solve for the patients."),
        worked=_p(f"{events} / {p:.2f} = <b>{answer:.1f}</b>, so about {math.ceil(answer - 1e-9)} patients.",
                  "This is why a trial is planned in events: the patients follow from how likely an event is by "
                  "the analysis, which depends on accrual and follow-up."),
        mistakes=mistakes, data={"events": events, "p": p})


def _q04_drift(rng):
    from teachkit import sequential

    events = int(rng.integers(50, 200))
    hr = round(float(rng.uniform(0.5, 0.85)), 2)
    answer = float(sequential.drift_from_hazard_ratio(hr, events))
    tol = 0.01
    power = float(ndtr(answer - 1.959963984540054))
    mistakes = _distinct(answer, [
        Mistake(-math.log(hr) * math.sqrt(events), "The factor r(1 − r) = 1/4 (two equal arms) is missing: "
                "the mean is −log HR × √(D/4)."),
        Mistake((1 - hr) * math.sqrt(events / 4), "The formula uses the logarithm of the hazard ratio: "
                f"−log {hr:.2f} = {-math.log(hr):.4f}, not 1 − {hr:.2f}."),
        Mistake(-math.log10(hr) * math.sqrt(events / 4), "log here is the natural logarithm (ln), not log "
                "base 10."),
    ], tol)
    return dict(
        prompt=_p(f"A trial with two equal arms analyses after <b>{events} events</b>; the true hazard ratio is "
                  f"<b>{hr:.2f}</b>.",
                  "What is the mean of its log-rank Z: −log(HR) √(D r (1 − r))?"),
        answer=answer, tolerance=tol, label="Mean of Z",
        hint=_p(f"r = 1/2, so r(1 − r) = 1/4 and √(D/4) = √({events}/4) = {math.sqrt(events / 4):.3f}. "
                "log is the natural logarithm."),
        worked=_p(f"−ln {hr:.2f} × √({events}/4) = {-math.log(hr):.4f} × {math.sqrt(events / 4):.3f} = "
                  f"<b>{answer:.2f}</b>.",
                  f"The power at one-sided alpha 0.025 is then Φ({answer:.2f} − 1.96) = {power:.0%}: "
                  "the chance that Z lands above 1.96."),
        mistakes=mistakes, data={"events": events, "hazard_ratio": hr})


# --------------------------------------------------------------------------------------
# Lesson 05 - looking early
# --------------------------------------------------------------------------------------

def _q05_alpha_increment(rng):
    from teachkit import sequential

    k = int(rng.choice([3, 4]))
    spending = str(rng.choice(["obrien-fleming", "pocock"]))
    fractions = np.round(np.cumsum(rng.uniform(0.6, 1.4, k)), 2)
    fractions = tuple(float(f) for f in np.round(fractions / fractions[-1], 2))
    if len(set(fractions)) < k or fractions[0] < 0.1:
        fractions = tuple(float(f) for f in np.round(np.arange(1, k + 1) / k, 2))
    d = sequential.group_sequential_design(list(fractions), alpha=0.025, spending=spending)
    look = int(rng.integers(2, k + 1))
    cumulative = [float(f"{a:.5f}") for a in d.alpha_spent]
    answer = cumulative[look - 1] - cumulative[look - 2]
    tol = 0.000005
    mistakes = _distinct(answer, [
        Mistake(cumulative[look - 1], "That is the <b>cumulative</b> alpha spent by this look (this look and "
                "all before it). Subtract what was spent by the previous look."),
        Mistake(0.025 / k, "Spending is not shared equally: the spending function decides how much of the "
                "0.025 is used by each information fraction."),
    ], tol)
    name = {"obrien-fleming": "O'Brien-Fleming-type", "pocock": "Pocock-type"}[spending]
    table = _table(["look", "information fraction t", "alpha spent by this look (cumulative)"],
                   [[f"{i + 1}", f"{t:.2f}", f"{a:.5f}"] for i, (t, a) in enumerate(zip(fractions, cumulative))],
                   caption=f"A design with {k} looks, {name} spending, one-sided alpha 0.025")
    return dict(
        prompt=table + _p(f"How much alpha is spent at look <b>{look}</b> alone?"),
        answer=answer, tolerance=tol, label=f"Alpha spent at look {look}",
        hint=_p("The table is cumulative: the alpha used by look k is what is spent by look k minus what was "
                "spent by look k − 1."),
        worked=_p(f"{cumulative[look - 1]:.5f} − {cumulative[look - 2]:.5f} = <b>{answer:.5f}</b>."),
        mistakes=mistakes, data={"fractions": fractions, "spending": spending, "look": look})


def _q05_pocock(rng):
    from teachkit import sequential

    t = float(rng.choice([0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8]))
    alpha = 0.025
    answer = float(sequential.pocock_spending(t, alpha=alpha))
    tol = 0.00005
    mistakes = _distinct(answer, [
        Mistake(alpha * t, "That spends the alpha in proportion to t. Pocock-type spending is α log(1 + (e − 1) t): "
                "more than that early on."),
        Mistake(alpha * math.log(1 + t), "The factor (e − 1) is missing inside the logarithm: at t = 1 it "
                "makes the spending exactly α."),
        Mistake(alpha * math.log10(1 + (math.e - 1) * t), "log here is the natural logarithm (ln)."),
    ], tol)
    return dict(
        prompt=_p(f"Pocock-type spending: α(t) = α log(1 + (e − 1) t), with one-sided α = {alpha}.",
                  f"How much alpha is spent by information fraction <b>t = {t:g}</b> (cumulative)?"),
        answer=answer, tolerance=tol, label="Alpha spent by t",
        hint=_p(f"e − 1 = 1.71828. Compute 1 + 1.71828 × {t:g}, take its natural log, multiply by {alpha}."),
        worked=_p(f"{alpha} × ln(1 + 1.71828 × {t:g}) = {alpha} × ln({1 + (math.e - 1) * t:.5f}) = "
                  f"<b>{answer:.5f}</b>.",
                  f"An O'Brien-Fleming-type function would have spent only "
                  f"{float(sequential.obrien_fleming_spending(t, alpha=alpha)):.5f} by then."),
        mistakes=mistakes, data={"t": t})


def _q05_first_crossing(rng):
    from teachkit import sequential

    def make(rng):
        k = int(rng.choice([3, 4]))
        spending = str(rng.choice(["obrien-fleming", "pocock"]))
        d = sequential.group_sequential_design(list(np.arange(1, k + 1) / k), alpha=0.025, spending=spending)
        c = np.round(d.z_efficacy, 2)
        z = np.round(np.cumsum(rng.normal(0.7, 0.6, k)) / np.sqrt(np.arange(1, k + 1)) + rng.normal(0.8, 0.6), 2)
        crossed = [i for i in range(k) if z[i] >= c[i]]
        answer = crossed[0] + 1 if crossed else 0
        naive = [i for i in range(k) if z[i] >= 1.96]
        naive_answer = naive[0] + 1 if naive else 0
        if naive_answer == answer or np.any(np.abs(z - c) < 0.03):
            return None
        return k, spending, c, z, answer, naive_answer

    k, spending, c, z, answer, naive_answer = _redraw(rng, make, lambda out: out is not None)
    name = {"obrien-fleming": "O'Brien-Fleming-type", "pocock": "Pocock-type"}[spending]
    largest = int(np.argmax(z)) + 1
    mistakes = [Mistake(naive_answer, "That compares Z with 1.96, the threshold of a single look. With several "
                        "looks each one has its own, stricter boundary: compare with the boundary row.")]
    if largest not in (answer, naive_answer):
        mistakes.append(Mistake(largest, "The trial stops at the <b>first</b> look whose Z reaches its boundary, "
                                "not at the look with the largest Z."))
    if answer != 0:
        mistakes.append(Mistake(0, f"At look {answer}, Z = {z[answer - 1]:.2f} reaches the boundary "
                                f"{c[answer - 1]:.2f}: the trial stops there."))
    table = _table(["look", *[f"{i + 1}" for i in range(k)]],
                   [["efficacy boundary (Z)", *[f"{x:.2f}" for x in c]], ["observed Z", *[f"{x:.2f}" for x in z]]],
                   caption=f"{k} equally spaced looks, {name} boundaries", align="l" + "r" * k)
    return dict(
        prompt=table + _p("At which look does the trial stop for benefit? Type the look's number, or 0 if it "
                          "never stops."),
        answer=answer, tolerance=0.0, label="Look (0 if none)",
        hint=_p("Go look by look from the first: the trial stops at the first look whose observed Z is at or "
                "above that look's boundary."),
        worked=_p((f"Look <b>{answer}</b>: Z = {z[answer - 1]:.2f} ≥ {c[answer - 1]:.2f}; every earlier Z was "
                   "below its boundary." if answer else
                   "<b>0</b>: no observed Z reaches its boundary, so the trial runs to the end.")),
        mistakes=_distinct(answer, mistakes, 0.0, gap=0.5),
        data={"boundaries": c.tolist(), "z": z.tolist(), "spending": spending})


# --------------------------------------------------------------------------------------
# Lesson 06 - the 2019 interim
# --------------------------------------------------------------------------------------

def _q06_b_value(rng):
    from teachkit import sequential

    t = round(float(rng.uniform(0.3, 0.8)), 2)
    z = round(float(rng.uniform(0.5, 2.8)), 2)
    answer = float(sequential.b_value(z, t))
    tol = 0.005
    mistakes = _distinct(answer, [
        Mistake(z * t, f"B multiplies Z by the <b>square root</b> of t: √{t:.2f} = {math.sqrt(t):.4f}."),
        Mistake(z / math.sqrt(t), "That divides by √t; the B-value multiplies: B = Z √t."),
    ], tol)
    return dict(
        prompt=_p(f"At an interim look at information fraction <b>t = {t:.2f}</b>, the log-rank <b>Z = {z:.2f}</b>.",
                  "What is the B-value?"),
        answer=answer, tolerance=tol, label="B-value",
        hint=_p("B(t) = Z √t: the Z scaled back to the information seen so far."),
        worked=_p(f"B = {z:.2f} × √{t:.2f} = {z:.2f} × {math.sqrt(t):.4f} = <b>{answer:.3f}</b>.",
                  "B moves like a random walk whose average slope, the drift, is the true effect: that is what "
                  "makes its future predictable on average."),
        mistakes=mistakes, data={"t": t, "z": z})


def _q06_conditional_power(rng):
    from teachkit import sequential

    c = round(float(_plan().design.z_efficacy[-1]), 2)
    t = round(float(rng.uniform(0.35, 0.75)), 2)
    z = round(float(rng.uniform(0.6, 2.2)), 2)
    b = z * math.sqrt(t)
    answer = float(sequential.conditional_power(z, t, c, drift="trend"))
    theta = b / t
    x = (b + theta * (1 - t) - c) / math.sqrt(1 - t)
    tol = 0.02
    mistakes = _distinct(answer, [
        Mistake(float(ndtr((b - c) / math.sqrt(1 - t))), "That assumes no effect from now on (drift 0). The "
                "question asks under the <b>current trend</b>: the drift is θ = B/t."),
        Mistake(float(ndtr(b + theta * (1 - t) - c)), "The division by √(1 − t) is missing: the future part of "
                "B has standard deviation √(1 − t)."),
        Mistake(float(ndtr((b + theta - c) / math.sqrt(1 - t))), "The drift adds θ × (1 − t), for the "
                "information still to come, not θ."),
    ], tol)
    return dict(
        prompt=_p(f"An interim look at <b>t = {t:.2f}</b> gives <b>Z = {z:.2f}</b>, so B = Z√t = {b:.3f}. The final "
                  f"efficacy boundary is <b>c = {c:.2f}</b>.",
                  "Under the current trend (drift θ = B/t), what is the conditional power: "
                  "CP = Φ((B + θ(1 − t) − c) / √(1 − t))?") + _phi_table(x, rng),
        answer=answer, tolerance=tol, label="Conditional power (0 to 1)",
        hint=_p(f"θ = B/t = {b:.3f}/{t:.2f}. Then compute the bracket, divide by √(1 − t) = {math.sqrt(1 - t):.3f}, "
                "and read Φ of it in the table."),
        worked=_p(f"θ = {b:.3f}/{t:.2f} = {theta:.3f}; (B + θ(1 − t) − c)/√(1 − t) = ({b:.3f} + {theta * (1 - t):.3f} − "
                  f"{c:.2f}) / {math.sqrt(1 - t):.3f} = {x:.3f}; CP = Φ({x:.3f}) = <b>{answer:.2f}</b>.",
                  "Conditional power answers 'if we go on, how likely is a significant end?'. It is a tool for "
                  "futility, never a licence to stop for benefit."),
        mistakes=mistakes, data={"t": t, "z": z, "c": c})


_DECISION = ("Stop for benefit: the efficacy boundary is crossed",
             "Stop for futility: Z is below the futility boundary",
             "Neither: continue the trial")


def _q06_decision(rng):
    plan = _plan()

    def make(rng):
        events = int(rng.integers(30, int(plan.events_planned) - 15))
        z = round(float(rng.uniform(-0.5, 4.0)), 2)
        r = plan.interim_report(events=events, z=z)
        if min(abs(z - r.z_efficacy), abs(z - r.z_futility)) < 0.05:
            return None
        return events, z, r

    events, z, r = _redraw(rng, make, lambda out: out is not None)
    answer = _DECISION[0] if r.efficacy_met else _DECISION[1] if r.futility_met else _DECISION[2]

    def why(option):
        if r.efficacy_met:
            return f"Z = {z:.2f} is at or above the efficacy boundary {r.z_efficacy:.2f}: the rule for benefit is met."
        if r.futility_met:
            return f"Z = {z:.2f} is below the futility boundary {r.z_futility:.2f}: the hoped-for benefit has become " \
                   "implausible, and the rule for futility is met."
        if option == _DECISION[0]:
            return f"Z = {z:.2f} is below the efficacy boundary {r.z_efficacy:.2f}. A Z above 1.96 is not enough at " \
                   "an interim look: its boundary is stricter."
        return f"Z = {z:.2f} is above the futility boundary {r.z_futility:.2f}: the data are still compatible with " \
               "the hoped-for benefit."

    return dict(
        kind="choice", options=_DECISION,
        prompt=_p(f"A look at <b>{events}</b> of {plan.events_planned:g} planned events. Efficacy boundary: "
                  f"Z ≥ <b>{r.z_efficacy:.2f}</b>; futility boundary: Z < <b>{r.z_futility:.2f}</b>. The log-rank "
                  f"<b>Z = {z:.2f}</b>.", "What do the rules say?"),
        answer=answer, label="The rules say",
        hint=_p("Compare Z with both boundaries: at or above the efficacy boundary, stop for benefit; below the "
                "futility boundary, stop for futility; in between, continue."),
        worked=_p(why(answer) + " The committee may still weigh other evidence: boundaries are guidelines."),
        mistakes=tuple(Mistake(o, why(o)) for o in _DECISION if o != answer),
        data={"events": events, "z": z, "z_efficacy": r.z_efficacy, "z_futility": r.z_futility})


# --------------------------------------------------------------------------------------
# Lesson 07 - after an early stop
# --------------------------------------------------------------------------------------

def _q07_ci_ratio(rng):
    from teachkit import sequential

    events = int(rng.integers(40, 300))
    est = sequential.hazard_ratio_from_z(0.0, events)        # the width does not depend on the estimate
    answer = est.ci_upper / est.ci_lower
    tol = 0.01
    mistakes = _distinct(answer, [
        Mistake(math.exp(2 * 1.96 / math.sqrt(events)), "The standard error of log HR is 2/√D with two equal "
                "arms (not 1/√D): the interval spans ±1.96 × 2/√D, a total of 4 × 1.96/√D."),
        Mistake(math.exp(4 * 1.96 / events), "Divide by the <b>square root</b> of the events."),
    ], tol)
    return dict(
        prompt=_p(f"A trial with two equal arms ends with <b>{events} events</b>. Its 95% confidence interval for the "
                  "hazard ratio spans a factor upper/lower ≈ exp(4 × 1.96 / √D).",
                  "How wide is it: what is upper / lower?"),
        answer=answer, tolerance=tol, label="Upper limit / lower limit",
        hint=_p(f"√{events} = {math.sqrt(events):.3f}; 4 × 1.96 = 7.84."),
        worked=_p(f"exp(7.84 / {math.sqrt(events):.3f}) = <b>{answer:.2f}</b>: the upper limit is {answer:.2f} times "
                  "the lower, whatever the estimate.",
                  "Fewer events, wider interval: a trial stopped early has a wide one."),
        mistakes=mistakes, data={"events": events})


def _q07_ci_lower(rng):
    from teachkit import sequential

    events = int(rng.integers(40, 250))
    hr = round(float(rng.uniform(0.5, 0.95)), 2)
    z = -math.log(hr) * math.sqrt(events / 4)
    est = sequential.hazard_ratio_from_z(z, events)
    answer = est.ci_lower
    tol = 0.005
    se = 2 / math.sqrt(events)
    mistakes = _distinct(answer, [
        Mistake(hr - 1.96 * se, "The interval is built on the <b>log</b> scale: log HR − 1.96 × SE, then exp(). "
                "Subtracting from the HR itself gives a symmetric, wrong interval."),
        Mistake(hr * math.exp(-1.96 / math.sqrt(events)), "The standard error of log HR is 2/√D with two equal "
                "arms, not 1/√D."),
        Mistake(est.ci_upper, "That is the upper limit: exp(log HR <b>+</b> 1.96 × SE)."),
    ], tol)
    return dict(
        prompt=_p(f"The estimated hazard ratio is <b>{hr:.2f}</b> after <b>{events} events</b> (two equal arms). "
                  "The standard error of log HR is about 2/√D.",
                  "What is the <b>lower</b> limit of its 95% confidence interval?"),
        answer=answer, tolerance=tol, label="Lower limit",
        hint=_p(f"On the log scale: ln {hr:.2f} − 1.96 × 2/√{events}; then take exp()."),
        worked=_p(f"ln {hr:.2f} = {math.log(hr):.4f}; 1.96 × 2/√{events} = {1.96 * se:.4f}; exp({math.log(hr):.4f} − "
                  f"{1.96 * se:.4f}) = <b>{answer:.2f}</b> (upper limit {est.ci_upper:.2f})."),
        mistakes=mistakes, data={"events": events, "hazard_ratio": hr})


def _q07_events_for_width(rng):
    from teachkit import sequential

    events = int(rng.integers(40, 160))
    factor = float(rng.choice([2.0, 3.0]))
    now = sequential.hazard_ratio_from_z(0.0, events)
    log_width = math.log(now.ci_upper / now.ci_lower)
    # the events whose interval is `factor` times narrower on the log scale: width ~ 1/sqrt(D)
    answer = events * (log_width / (log_width / factor)) ** 2
    check_width = math.log(sequential.hazard_ratio_from_z(0.0, answer).ci_upper /
                           sequential.hazard_ratio_from_z(0.0, answer).ci_lower)
    assert abs(check_width * factor - log_width) < 1e-9
    tol = 1.0
    mistakes = _distinct(answer, [
        Mistake(events * factor, f"The width shrinks with the <b>square root</b> of the events: {factor:g} times "
                f"narrower needs {factor:g}² = {factor ** 2:g} times the events."),
        Mistake(events * math.sqrt(factor), "The other way round: width ∝ 1/√D, so D grows with the square of the "
                "narrowing."),
    ], tol)
    return dict(
        prompt=_p(f"A trial ended with <b>{events} events</b>. Its confidence interval for log HR has width "
                  f"4 × 1.96/√D = {log_width:.3f}.",
                  f"How many events would make that width <b>{factor:g} times narrower</b>?"),
        answer=answer, tolerance=tol, unit="events", label="Events needed",
        hint=_p("The width is proportional to 1/√D. Which D makes √D grow by the factor?"),
        worked=_p(f"√D must grow {factor:g} times, so D grows {factor ** 2:g} times: {events} × {factor ** 2:g} = "
                  f"<b>{answer:.0f} events</b>.",
                  "Precision is expensive: halving the interval takes four times the events."),
        mistakes=mistakes, data={"events": events, "factor": factor})


# --------------------------------------------------------------------------------------
# The question bank
# --------------------------------------------------------------------------------------

def _bank():
    spec = {
        "00": [("information", "Information at a look", _q00_information),
               ("risk-reduction", "What a hazard ratio says", _q00_risk_reduction),
               ("crossed", "Was the boundary crossed?", _q00_crossed),
               ("interval", "Is no difference compatible?", _q00_interval)],
        "01": [("at-risk", "Who is at risk?", _q01_at_risk),
               ("km-step", "A Kaplan-Meier estimate from its steps", _q01_km_step),
               ("km-patients", "A Kaplan-Meier estimate with censoring", _q01_km_patients),
               ("median", "Reading the median", _q01_median)],
        "02": [("o-minus-e", "O − E at one event time", _q02_o_minus_e),
               ("p-from-z", "From Z to a one-sided P", _q02_p_from_z),
               ("hr-from-z", "From Z to a hazard ratio", _q02_hr_from_z),
               ("significant", "Significant or not?", _q02_significant)],
        "03": [("risk-group", "Which risk group?", _q03_risk_group),
               ("stratum", "Which stratum?", _q03_stratum),
               ("count-high", "How many are high risk?", _q03_count_high)],
        "04": [("events-hr", "Events when the hazard ratio changes", _q04_events_hr),
               ("event-probability", "Events from survival", _q04_event_probability),
               ("patients", "From events to patients", _q04_patients),
               ("drift", "The mean of Z", _q04_drift)],
        "05": [("alpha-increment", "Alpha spent at one look", _q05_alpha_increment),
               ("pocock", "A spending function by hand", _q05_pocock),
               ("first-crossing", "Where does the trial stop?", _q05_first_crossing)],
        "06": [("b-value", "The B-value", _q06_b_value),
               ("conditional-power", "Conditional power under the trend", _q06_conditional_power),
               ("decision", "What do the rules say?", _q06_decision)],
        "07": [("ci-ratio", "How wide is the interval?", _q07_ci_ratio),
               ("ci-lower", "The interval's lower limit", _q07_ci_lower),
               ("events-for-width", "Events for a narrower interval", _q07_events_for_width)],
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


# --------------------------------------------------------------------------------------
# The widget
# --------------------------------------------------------------------------------------

_CSS = """
.tk-practice .tk-practice-row { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: center; }
.tk-practice .tk-practice-prompt table { margin: 0.4em 0; }
.tk-practice .tk-practice-prompt caption { text-align: left; font-style: italic; }
.tk-practice .widget-radio-box label { white-space: normal; }
.tk-practice .tk-practice-saved { font-size: 0.92em; color: #333333; }
.tk-practice .tk-practice-saved button { margin-left: 0.5em; }
.tk-practice .widget-text input { min-width: 8em; }
@media (max-width: 640px) {
  .tk-practice .widget-text { flex-wrap: wrap; height: auto !important; }
  .tk-practice .widget-text > .widget-label { flex: 1 1 100%; max-width: 100%; white-space: normal;
    text-align: left !important; }
  .tk-practice .tk-practice-prompt { overflow-x: auto; }
}
"""

_JS = r"""
(function () {
  var KEY = '__KEY__';
  if (window.__teachkitPractice) { window.__teachkitPractice.scan(document); return; }
  function load() {   // the stored progress, or null when the browser allows no storage
    try {
      var v = JSON.parse(window.localStorage.getItem(KEY) || 'null');
      return (v && typeof v === 'object' && v.lessons && typeof v.lessons === 'object') ? v : {v: 1, lessons: {}};
    } catch (e) { return null; }
  }
  function store(data) {
    try { window.localStorage.setItem(KEY, JSON.stringify(data)); return true; } catch (e) { return false; }
  }
  function words(s) { return (s || '').split(' ').filter(function (w) { return /^[a-z0-9-]+$/.test(w); }); }
  function show(box, keys, right, ok, lesson) {
    var saved = box.querySelector('.tk-practice-saved .widget-html-content') || box.querySelector('.tk-practice-saved');
    if (!saved) return;
    var text;
    if (!ok) {
      text = 'Your progress cannot be kept: this browser does not allow storage for this page.';
    } else {
      var numbers = keys.map(function (k, i) { return right.indexOf(k) >= 0 ? String(i + 1) : null; })
                        .filter(function (x) { return x; });
      text = 'Kept in this browser only, nothing is sent anywhere: ' + numbers.length + ' of ' + keys.length +
             ' questions answered right' + (numbers.length ? ' (question' + (numbers.length > 1 ? 's ' : ' ') +
             numbers.join(', ') + ').' : '.');
    }
    if (saved.getAttribute('data-tk-text') === text) return;
    saved.setAttribute('data-tk-text', text);
    saved.textContent = text;
    if (ok && right.length) {
      var forget = document.createElement('button');
      forget.type = 'button';
      forget.className = 'jupyter-button tk-practice-forget';
      forget.textContent = 'Forget my progress';
      forget.addEventListener('click', function () {
        var data = load(), el = box.querySelector('.tk-practice-data');
        if (data) { delete data.lessons[lesson]; store(data); }
        // what was answered right on this page so far no longer counts either
        box.setAttribute('data-tk-ignore', el ? el.getAttribute('data-right') || '' : '');
        sync(box, true);
      });
      saved.appendChild(forget);
    }
  }
  function sync(box, force) {
    var el = box.querySelector('.tk-practice-data');
    if (!el) return;
    var signature = el.outerHTML + '|' + (box.getAttribute('data-tk-ignore') || '');
    var saved = box.querySelector('.tk-practice-saved [data-tk-text]');
    if (!force && saved && box.__tkSignature === signature) return;
    box.__tkSignature = signature;
    var lesson = el.getAttribute('data-lesson'), keys = words(el.getAttribute('data-keys'));
    if (!/^[0-9]{2}$/.test(lesson)) return;
    var ignore = words(box.getAttribute('data-tk-ignore'));
    var fresh = words(el.getAttribute('data-right')).filter(function (k) { return ignore.indexOf(k) < 0; });
    var data = load();
    if (!data) { show(box, keys, fresh, false, lesson); return; }
    var entry = data.lessons[lesson];
    var right = entry && entry.right ? entry.right.filter(function (k) { return keys.indexOf(k) >= 0; }) : [];
    fresh.forEach(function (k) { if (right.indexOf(k) < 0) right.push(k); });
    right.sort(function (a, b) { return keys.indexOf(a) - keys.indexOf(b); });
    var ok = true;
    var changed = entry ? (right.join(' ') !== (entry.right || []).join(' ') || keys.join(' ') !== (entry.keys || []).join(' '))
                        : right.length > 0;   // nothing is stored for a lesson until a question is answered right
    if (changed) {
      data.v = 1;
      data.lessons[lesson] = {total: keys.length, keys: keys, right: right, updated: new Date().toISOString()};
      ok = store(data);
    }
    show(box, keys, right, ok, lesson);
  }
  function scan(root) {
    if (root.querySelectorAll) root.querySelectorAll('.tk-practice').forEach(function (b) { sync(b, false); });
  }
  // A widget's parts are attached one by one and get their classes a moment later: after any
  // node is added (or the state's text changes), look again once things settle. A box whose
  // state has not changed since it was last shown is skipped (cheap on pages that redraw).
  var pending = false;
  function later() { if (!pending) { pending = true; setTimeout(function () { pending = false; scan(document); }, 50); } }
  new MutationObserver(function (records) {
    for (var i = 0; i < records.length; i++) {
      if (records[i].addedNodes.length || records[i].type === 'characterData') { later(); return; }
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
  window.addEventListener('storage', function (e) {
    if (e.key === KEY && document.querySelectorAll) document.querySelectorAll('.tk-practice').forEach(function (b) { sync(b, true); });
  });
  window.__teachkitPractice = {scan: scan, load: load};
  scan(document);
})();
""".replace("__KEY__", STORAGE_KEY)

#: The stylesheet and the progress script (HTML), shown before every Practice widget.
FRONTEND = f"<style>{_CSS}</style><script>{_JS}</script>"

#: For the course home page: fills every ``[data-tk-practice-lesson]`` placeholder (see
#: :func:`progress_html`) from the browser's stored progress.
HOME_SCRIPT = r"""<script>
(function () {
  var KEY = '__KEY__', data = null;
  try { data = JSON.parse(window.localStorage.getItem(KEY) || 'null'); } catch (e) { data = null; }
  var lessons = (data && data.lessons) || {};
  document.querySelectorAll('[data-tk-practice-lesson]').forEach(function (el) {
    var lesson = el.getAttribute('data-tk-practice-lesson'), entry = lessons[lesson];
    var total = entry && entry.keys ? entry.keys.length : Number(el.getAttribute('data-tk-practice-total') || 0);
    var right = entry && entry.right ? entry.right.filter(function (k) { return entry.keys.indexOf(k) >= 0; }).length : 0;
    el.textContent = entry ? ('Practice: ' + right + ' of ' + total + ' right') :
                             ('Practice: ' + total + ' questions, not started');
    el.setAttribute('data-tk-practice-right', String(right));
  });
})();
</script>""".replace("__KEY__", STORAGE_KEY)


def progress_html(lesson) -> str:
    """A placeholder for the course home page: "Practice: 4 questions, not started" until
    :data:`HOME_SCRIPT` (include it once, after the placeholders) fills in what the learner's
    browser has stored.

    >>> progress_html("04")
    '<span class="tk-practice-progress" data-tk-practice-lesson="04" data-tk-practice-total="4">Practice: 4 questions</span>'
    """
    key = lesson_key(lesson)
    n = len(QUESTIONS[key])
    return (f'<span class="tk-practice-progress" data-tk-practice-lesson="{key}" '
            f'data-tk-practice-total="{n}">Practice: {n} questions</span>')


# --------------------------------------------------------------------------------------
# The coding exercises, on the course home
# --------------------------------------------------------------------------------------

#: Where binder/postBuild puts the student versions of the assignments (beside lessons/).
EXERCISES_FOLDER = "exercises"
HOWTO_NAME = "how-to-run-a-cell"

_EXERCISES_INTRO = ("<p><strong>Coding exercises.</strong> The course also has seven exercises in which you write "
                    "short Python functions (with numpy) and test cells tell you what is wrong. <strong>They need a "
                    "little Python; the lessons do not.</strong> New to notebooks? Start with <em>How to run a "
                    "cell</em> (about 10 minutes).</p>")

_EXERCISES_SCRIPT = """<script>
(function () {
  /* Links made from where the page is: the site's root (before /voici/), or the Jupyter
     server's base URL (its page config) for the notebook interface. */
  var config = document.getElementById('jupyter-config-data'), base = null;
  try { base = JSON.parse(config.textContent).baseUrl; } catch (e) { base = null; }
  document.querySelectorAll('a[data-tk-site-path]').forEach(function (a) {
    var path = location.pathname, i = path.indexOf('/voici/');
    if (i >= 0) a.setAttribute('href', path.slice(0, i + 1) + a.getAttribute('data-tk-site-path'));
  });
  document.querySelectorAll('a[data-tk-notebook]').forEach(function (a) {
    if (base) a.setAttribute('href', base.replace(/\\/?$/, '/') + 'notebooks/' + a.getAttribute('data-tk-notebook'));
  });
  /* the same tab, as the course home's other links (the front end adds target=_blank later) */
  setTimeout(function () {
    document.querySelectorAll('a[data-tk-notebook], a[data-tk-site-path]').forEach(function (a) {
      a.removeAttribute('target'); a.removeAttribute('rel');
    });
  }, 0);
})();
</script>"""


def _exercise_title(path) -> tuple:
    """(lesson, title) of an exercise notebook, from its first cell (lesson "" if it names none)."""
    import json

    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        first = "".join(cells[0]["source"]) if cells else ""
    except (OSError, ValueError, KeyError, IndexError):
        return "", path.stem
    title = re.search(r"^#\s+(.+)$", first, re.M)
    lesson = re.search(r"lesson (\d\d)", first)
    text = re.sub(r"^Assignment \d+:\s*", "", title.group(1).strip()) if title else path.stem
    return (lesson.group(1) if lesson else ""), text[:1].upper() + text[1:]


def exercises_html(folder=".") -> str:
    """The course home's paragraph on the coding exercises, for where the home is served.

    * The no-install site (Python in the browser): a link to its Practice page, where the
      exercises open in the notebook app and are handed in.
    * A Jupyter server whose lessons have ``exercises/`` beside them (Binder and a hub, made
      by binder/postBuild): every exercise, opened in the notebook interface.
    * Elsewhere (``teachkit lessons`` on a computer): where the exercises are.

    >>> "need a little Python" in exercises_html("/nonexistent")
    True
    """
    import sys
    from pathlib import Path

    if sys.platform == "emscripten":
        body = ('<p><a data-tk-site-path="practice/index.html" href="../../practice/index.html">The exercises, '
                "in your browser</a>: open one, save your work in this browser, and download it to hand in.</p>")
        return _EXERCISES_INTRO + body + _EXERCISES_SCRIPT
    exercises = Path(folder).resolve().parent / EXERCISES_FOLDER
    found = sorted(exercises.glob("*.ipynb")) if exercises.is_dir() else []
    if not found:
        return _EXERCISES_INTRO + ("<p>They are on the course's no-install site and on Binder, or your "
                                   "instructor gives them to you.</p>")
    items = []
    ordered = sorted(found, key=lambda p: (p.stem != HOWTO_NAME, _exercise_title(p)[0] or "99", p.stem))
    for path in ordered:
        lesson, title = _exercise_title(path)
        if path.stem == HOWTO_NAME:
            title, extra = "How to run a cell", " (about 10 minutes: start here)"
        else:
            extra = f" (goes with lesson {lesson})" if lesson else ""
        rel = f"{EXERCISES_FOLDER}/{path.name}"
        items.append(f'<li><a data-tk-notebook="{html.escape(rel)}" href="../../../notebooks/{html.escape(rel)}">'
                     f"{html.escape(title)}</a>{html.escape(extra)}</li>")
    body = ("<p>They open in the notebook interface. This session is temporary: before you close it, save your "
            "work to your computer (<em>File → Download</em>).</p>"
            f'<ul class="tk-exercises">{"".join(items)}</ul>')
    return _EXERCISES_INTRO + body + _EXERCISES_SCRIPT


def show_exercises(folder=".") -> None:
    """Display :func:`exercises_html` (a code cell of the course home)."""
    from IPython.display import HTML, display

    display(HTML(exercises_html(folder)))


def _new_seed() -> int:
    return int(np.random.SeedSequence().generate_state(1)[0])


class Practice:
    """The practice questions of one lesson, one at a time, with feedback.

    ``seed`` fixes the whole sequence of draws (tests); by default each widget draws its own.
    Each question's n-th draw has the seed ``SeedSequence([seed, lesson, question, n])``.

    >>> p = Practice("04", seed=1)
    >>> p.title
    'Practice: 4 questions'
    >>> first = p.problem()
    >>> p.answer("1").correct, p.tries
    (False, 1)
    >>> p.answer(f"{first.answer:.2f}").correct, p.right
    (True, ('events-hr',))
    >>> p.another().seed != first.seed
    True
    """

    def __init__(self, lesson, seed: int | None = None):
        self.lesson = lesson_key(lesson)
        if seed is None:
            seed = _new_seed()
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        self.questions = QUESTIONS[self.lesson]
        self.index = 0
        self._draws = [0] * len(self.questions)
        self._problems = [None] * len(self.questions)
        self._tries = [0] * len(self.questions)
        self._worked_shown = [False] * len(self.questions)
        self._right: set = set()
        self.verdict: Verdict | None = None
        self._widget = None

    # ---- state (testable without a browser) --------------------------------------------
    @property
    def title(self) -> str:
        return f"Practice: {len(self.questions)} questions"

    def _seed_for(self, i, n) -> int:
        seq = np.random.SeedSequence([self.seed, int(self.lesson), i, n])
        return int(seq.generate_state(1)[0])

    def problem(self, i: int | None = None) -> Problem:
        """The current draw of question ``i`` (default: the one shown)."""
        i = self._check_index(i)
        if self._problems[i] is None:
            self._problems[i] = self.questions[i].draw(self._seed_for(i, self._draws[i]))
        return self._problems[i]

    def _check_index(self, i):
        if i is None:
            return self.index
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < len(self.questions):
            raise ValueError(f"i must be a question number from 0 to {len(self.questions) - 1}, got {i!r}")
        return int(i)

    @property
    def tries(self) -> int:
        """Wrong or right tries at the current draw of the shown question."""
        return self._tries[self.index]

    @property
    def right(self) -> tuple:
        """Keys of the questions answered right (in question order)."""
        return tuple(q.key for q in self.questions if q.key in self._right)

    @property
    def worked_shown(self) -> bool:
        """Whether the worked answer of the shown question's draw is shown (after two wrong
        tries; a right answer then counts only with a fresh draw)."""
        return self._worked_shown[self.index]

    def answer(self, response) -> Verdict:
        """Check ``response`` (typed text or a chosen option) for the shown question."""
        i = self.index
        problem = self.problem()
        verdict = check(problem, response)
        if verdict.counts_as_try:
            self._tries[i] += 1
        if verdict.correct:
            if self._worked_shown[i]:
                verdict = Verdict(True, "right", verdict.message + " <i>You saw the worked answer for these "
                                  "numbers: press “Try another” and answer a fresh one to count it.</i>",
                                  verdict.value)
            else:
                self._right.add(problem.key)
        elif verdict.counts_as_try and self._tries[i] >= TRIES_BEFORE_WORKED and not self._worked_shown[i]:
            verdict = Verdict(False, verdict.kind, verdict.message + " The worked answer is below.", verdict.value)
            self._worked_shown[i] = True
        self.verdict = verdict
        self._refresh()
        return verdict

    def another(self) -> Problem:
        """A fresh draw of the shown question ("Try another")."""
        i = self.index
        self._draws[i] += 1
        self._problems[i] = None
        self._tries[i] = 0
        self._worked_shown[i] = False
        self.verdict = None
        self._refresh(new_problem=True)
        return self.problem()

    def go(self, i: int) -> Problem:
        """Show question ``i`` (0-based)."""
        self.index = self._check_index(i)
        self.verdict = None
        self._refresh(new_problem=True)
        return self.problem()

    # ---- view ---------------------------------------------------------------------------
    @property
    def widget(self):
        if self._widget is None:
            self._widget = self._build()
        return self._widget

    def _ipython_display_(self):  # pragma: no cover - notebook only
        from IPython.display import HTML, display

        display(HTML(FRONTEND))
        display(self.widget)

    def _state_html(self) -> str:
        keys = " ".join(q.key for q in self.questions)
        right = " ".join(self.right)
        return (f'<span class="tk-practice-data" data-lesson="{self.lesson}" data-keys="{keys}" '
                f'data-right="{right}">{len(self.right)} of {len(self.questions)} answered right</span>')

    def _build(self):
        import ipywidgets as W

        self._heading = W.HTML(f"<h3 style='margin:0.2em 0'>{html.escape(self.title)}</h3>")
        self._saved = W.HTML("Progress is kept in this browser only.")
        self._saved.add_class("tk-practice-saved")
        self._position = W.HTML()
        self._prev = W.Button(description="Previous question", icon="arrow-left", layout=W.Layout(width="auto"))
        self._next = W.Button(description="Next question", icon="arrow-right", layout=W.Layout(width="auto"))
        self._prev.on_click(lambda _b: self.go(self.index - 1) if self.index > 0 else None)
        self._next.on_click(lambda _b: self.go(self.index + 1) if self.index < len(self.questions) - 1 else None)
        nav = W.Box([self._position, self._prev, self._next])
        nav.add_class("tk-practice-row")
        self._prompt = W.HTML()
        self._prompt.add_class("tk-practice-prompt")
        self._text = W.Text(value="", continuous_update=True, style={"description_width": "initial"},
                            layout=W.Layout(width="auto", max_width="100%"))
        self._text.on_msg(self._on_text_msg)
        self._choice = W.RadioButtons(options=[], value=None, style={"description_width": "initial"},
                                      layout=W.Layout(width="auto", max_width="100%"))
        self._choice.add_class("tk-radiogroup")
        self._check = W.Button(description="Check", button_style="primary", layout=W.Layout(width="auto"))
        self._check.on_click(lambda _b: self._on_check())
        answer_row = W.Box([self._text, self._choice, self._check])
        answer_row.add_class("tk-practice-row")
        self._tolerance = W.HTML()
        self._feedback = W.HTML(layout=W.Layout(min_height="1.6em"))
        self._feedback.add_class("tk-live")
        self._hint_button = W.Button(description="Show a hint", layout=W.Layout(width="auto"))
        self._hint_button.add_class("tk-disclosure")
        self._hint_button.on_click(lambda _b: self._toggle_hint())
        self._another = W.Button(description="Try another", icon="refresh", layout=W.Layout(width="auto"),
                                 tooltip="the same question with new numbers")
        self._another.on_click(lambda _b: self.another())
        tools = W.Box([self._hint_button, self._another])
        tools.add_class("tk-practice-row")
        self._hint = W.HTML(layout=W.Layout(display="none"))
        self._hint.add_class("tk-practice-hint")
        self._worked = W.HTML(layout=W.Layout(display="none"))
        self._worked.add_class("tk-practice-worked")
        self._state = W.HTML(self._state_html())
        self._state.add_class("tk-practice-state")
        self._state.add_class("tk-visually-hidden")
        box = panel([self._heading, self._saved, nav, self._prompt, answer_row, self._tolerance, self._feedback,
                     tools, self._hint, self._worked, self._state], classes=("tk-panel", "tk-practice"))
        self._refresh(new_problem=True)
        return box

    def _on_text_msg(self, _widget, content, _buffers):
        if isinstance(content, dict) and content.get("event") == "submit":
            self._on_check()

    def _on_check(self):
        p = self.problem()
        response = self._choice.value if p.kind == "choice" else self._text.value
        self.answer(response)

    def _toggle_hint(self):
        shown = self._hint.layout.display != "none"
        self._hint.layout.display = "none" if shown else ""
        self._hint_button.description = "Show a hint" if shown else "Hide the hint"

    def _refresh(self, new_problem=False):
        if self._widget is None and not hasattr(self, "_prompt"):
            return
        p = self.problem()
        i, n = self.index, len(self.questions)
        mark = " (answered right)" if p.key in self._right else ""
        self._position.value = f"<b>Question {i + 1} of {n}</b>: {html.escape(p.title)}{mark}"
        self._prev.disabled = i == 0
        self._next.disabled = i == n - 1
        if new_problem:
            self._prompt.value = p.prompt
            self._hint.value = p.hint
            self._hint.layout.display = "none"
            self._hint_button.description = "Show a hint"
            self._worked.value = "<p><b>Worked answer.</b></p>" + p.worked
            self._tolerance.value = f"<small>{html.escape(p.tolerance_text)}</small>" if p.tolerance_text else ""
            if p.kind == "choice":
                self._text.layout.display = "none"
                self._choice.layout.display = ""
                self._choice.options = list(p.options)
                self._choice.value = None
                self._choice.description = p.label
            else:
                self._choice.layout.display = "none"
                self._text.layout.display = ""
                self._text.value = ""
                unit = f" ({p.unit})" if p.unit and p.unit not in p.label else ""
                self._text.description = p.label + unit
        self._feedback.value = self.verdict.message if self.verdict is not None else ""
        self._worked.layout.display = "" if self._worked_shown[i] or (
            self.verdict is not None and self.verdict.correct) else "none"
        self._state.value = self._state_html()

    def __repr__(self) -> str:
        return f"Practice(lesson={self.lesson!r}, {len(self.questions)} questions, right={self.right!r})"


def practice_for(lesson, seed: int | None = None) -> Practice:
    """The practice questions of ``lesson`` ("00" ... "07"): the one call a lesson's cell makes
    (``tk.explorers.practice_for("04")`` as the cell's last line shows the widget)."""
    return Practice(lesson, seed=seed)
