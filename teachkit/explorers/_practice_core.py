"""What a practice question is, and how an answer is read and checked (teachkit.explorers.practice).

:class:`Question` (a lesson's question: ``make(rng)`` gives one draw), :class:`Problem` (one
draw: prompt, the answer teachkit computes, tolerance, hint, worked answer, the common wrong
answers as :class:`Mistake` s), :func:`parse_number` (what a learner typed), :func:`check` (a
problem and a response -> a :class:`Verdict` with its feedback), and the small helpers the
question banks (``_practice_00_03``, ``_practice_04_07``) write their prompts with.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Mapping

import numpy as np
from scipy.special import ndtr

from teachkit.explorers._a11y import COLORS

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


def _plan():
    """AALL1331's monitoring plan (teachkit.aall1331), on first use."""
    from teachkit import aall1331

    return aall1331.monitoring_plan()


def _phi_table(x, rng, width=0.6, step=0.1) -> str:
    """A small table of the standard normal's Phi around ``x`` (start jittered so the table
    does not give x away)."""
    start = math.floor((x - width) / step) * step - step * int(rng.integers(0, 3))
    xs = [round(start + i * step, 2) for i in range(int(2 * width / step) + 4)]
    return _table(["x", "Φ(x)"], [[_fmt(v, 3) if v else "0", f"{float(ndtr(v)):.3f}"] for v in xs],
                  caption="The standard normal Φ(x) (between two rows, interpolate)")
