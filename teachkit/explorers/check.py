"""The "Check yourself" question that ends every lesson: multiple choice, answered with a
"Check" button, the right answer computed by the lesson with teachkit.

The learner chooses an option (arrow keys move between the options, as in any radio group)
and presses "Check": only then is the choice judged.  (Judging on every change said "Not
quite" to a keyboard user while the arrow keys passed over the options.)  Choosing another
option clears the verdict until "Check" is pressed again.
"""

from __future__ import annotations

import asyncio
import html

from teachkit.explorers._a11y import COLORS, panel

#: Seconds a "Check" waits before judging, inside a kernel (see :func:`after_pending_choices`).
SETTLE = 0.4


def _kernel_loop():
    """The event loop of the IPython kernel this code runs in, or None outside a kernel (a
    running loop alone is not enough: Playwright's synchronous API keeps one running in the
    thread of a test that drives a browser, and it runs only while the test awaits a page)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return None
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def after_pending_choices(judge, settle: float = SETTLE) -> bool:
    """Run ``judge`` once the learner's last choice has reached the kernel.

    ipywidgets sends a widget's value changes one at a time: while the kernel is busy (an
    explorer still drawing), a radio group's later changes wait in the browser until the
    kernel has answered the first, but a button's click goes at once.  A learner who chose
    the third option and pressed "Check" was then judged on the first, and the verdict was
    wiped a moment later when the third arrived (lesson 06, with the monitor busy).  Inside a
    running event loop (a kernel handling a message) the judgement is therefore scheduled
    ``settle`` seconds later, after the choices already on their way; outside a kernel (a
    script, a test) it runs at once.  Returns True when it was deferred.
    """
    loop = _kernel_loop()
    if loop is None:
        judge()
        return False
    loop.call_later(settle, judge)
    return True


class CheckYourself:
    """A multiple-choice question with immediate feedback, for the end of a lesson.

    The lesson computes the right answer with teachkit and passes it in, so the
    question stays true when the numbers change.  ``right`` and ``wrong`` are HTML
    explanations shown after a right or a wrong choice.

    >>> q = CheckYourself("Did Z cross 2.64?", ["Yes", "No"], answer="No",
    ...                   right="Z = 1.55 is below 2.64.", wrong="Compare Z with 2.64.")
    >>> q.choose("Yes")
    False
    >>> "Not quite" in q.feedback
    True
    >>> q.choose("No"), "Right" in q.feedback
    (True, True)
    """

    # text colours >= 4.5:1 on white (WCAG 1.4.3); the words carry the verdict, not the colour
    RIGHT = f"<b style='color:{COLORS['right']}'>Right.</b> "
    WRONG = f"<b style='color:{COLORS['wrong']}'>Not quite.</b> "

    def __init__(self, question: str, options, answer, right: str = "", wrong: str = ""):
        if not isinstance(question, str) or not question.strip():
            raise ValueError("question must be a non-empty string")
        options = list(options)
        if len(options) < 2 or len(set(options)) != len(options):
            raise ValueError(f"options must hold at least two different choices, got {options!r}")
        if answer not in options:
            raise ValueError(f"answer must be one of the options {options!r}, got {answer!r}")
        self.question, self.options, self.answer = question, options, answer
        self.right, self.wrong = right, wrong
        self.feedback = ""
        self._widget = None

    def choose(self, option) -> bool:
        """Record a learner's choice; return whether it is right (and set ``feedback``)."""
        if option not in self.options:
            raise ValueError(f"option must be one of {self.options!r}, got {option!r}")
        correct = option == self.answer
        self.feedback = (self.RIGHT + self.right) if correct else (self.WRONG + self.wrong)
        if self._widget is not None:
            self._feedback.value = self.feedback
        return correct

    #: What the feedback line says when "Check" is pressed with no option chosen.
    CHOOSE_FIRST = "Choose one of the answers, then press Check."

    @property
    def widget(self):
        """The question, radio buttons, a "Check" button and a feedback line (built on first
        use)."""
        if self._widget is None:
            import ipywidgets as W

            self._buttons = W.RadioButtons(options=self.options, value=None,
                                           layout=W.Layout(width="auto"))
            self._feedback = W.HTML(self.feedback)
            self._feedback.add_class("tk-live")  # announced politely (see _a11y)
            self._buttons.observe(self._chosen, names="value")
            self._check = W.Button(description="Check", button_style="",
                                   tooltip="judge the answer chosen above", layout=W.Layout(width="auto"))
            self._check.add_class("tk-check-button")
            self._check.on_click(lambda _b: self._request_check())
            # the question names the radio group (the front end links them)
            question = W.HTML(f"<b>{html.escape(self.question)}</b>")
            question.add_class("tk-question")
            self._widget = panel([question, self._buttons, self._check, self._feedback],
                                 classes=("tk-panel", "tk-check"))
        return self._widget

    def _request_check(self):
        """"Check" pressed: judge the choice once the choices on their way have arrived."""
        self._check_pending = True

        def judge():
            self._check_pending = False
            self._judge()

        after_pending_choices(judge)

    def _chosen(self, change):
        """Another option chosen: the earlier verdict no longer applies (unless "Check" was
        pressed and is waiting for this very choice)."""
        if getattr(self, "_check_pending", False):
            return
        if self.feedback:
            self.feedback = ""
            self._feedback.value = ""

    def _judge(self):
        choice = self._buttons.value
        if choice is None:
            self.feedback = f"<b>{self.CHOOSE_FIRST}</b>"
            self._feedback.value = self.feedback
            return
        self.choose(choice)

    def _ipython_display_(self):  # pragma: no cover - notebook only
        self.widget._ipython_display_()
