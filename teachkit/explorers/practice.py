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

One module per idea: ``_practice_core`` (what a question is; reading and checking an answer),
``_practice_00_03`` and ``_practice_04_07`` (the questions of each lesson), ``_practice_bank``
(lesson -> questions), ``_practice_page`` (the browser side: stylesheet, progress script, the
course home's placeholders and its paragraph on the coding exercises) and this module (the
widget).  Their public names are all importable from here.

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

import numpy as np

from teachkit.explorers._a11y import panel
from teachkit.explorers.check import after_pending_choices
# The parts, one module per idea; their public names are this module's too.
from teachkit.explorers._practice_bank import QUESTIONS, catalogue, lesson_key
from teachkit.explorers._practice_core import (LESSONS, STORAGE_KEY, TRIES_BEFORE_WORKED, Mistake, Problem,
                                               Question, Verdict, check, parse_number)
from teachkit.explorers._practice_page import (EXERCISE_FOR_LESSON, EXERCISES_FOLDER, FRONTEND, HOME_SCRIPT,
                                               HOWTO_NAME, exercises_html, lesson_exercise_html, progress_html,
                                               show_exercises)

__all__ = ["Practice", "practice_for", "QUESTIONS", "catalogue", "lesson_key", "LESSONS", "STORAGE_KEY",
           "TRIES_BEFORE_WORKED", "Mistake", "Problem", "Question", "Verdict", "check", "parse_number",
           "EXERCISES_FOLDER", "FRONTEND", "HOME_SCRIPT", "HOWTO_NAME", "exercises_html", "progress_html",
           "show_exercises", "EXERCISE_FOR_LESSON", "lesson_exercise_html"]


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
        display(HTML(lesson_exercise_html(self.lesson)))

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
        self._check.on_click(lambda _b: after_pending_choices(self._on_check))
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
            after_pending_choices(self._on_check)   # the typed value may still be on its way

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
