"""The practice questions (teachkit.explorers.practice): every answer the library computes
checked against an independent computation from the drawn data, the common wrong answers
recognised, fresh data per attempt, and the widget's flow, all without a browser.
(The widget in Chromium, with its stored progress: tests/test_practice_browser.py.)"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest

from teachkit import explorers
from teachkit.explorers import practice as P

sys.path.insert(0, str(Path(__file__).resolve().parent))   # tests/newcomer.py

SEEDS = range(25)
PHI = NormalDist().cdf
Z = NormalDist().inv_cdf


def draws(lesson, key, seeds=SEEDS):
    q = next(q for q in P.QUESTIONS[lesson] if q.key == key)
    return [q.draw(s) for s in seeds]


# ---------------------------------------------------------------------------- the bank
def test_every_lesson_has_three_to_six_questions():
    assert tuple(P.QUESTIONS) == P.LESSONS == ("00", "01", "02", "03", "04", "05", "06", "07")
    for lesson, questions in P.QUESTIONS.items():
        assert 3 <= len(questions) <= 6, lesson
        keys = [q.key for q in questions]
        assert len(set(keys)) == len(keys) and all(re.fullmatch(r"[a-z0-9-]+", k) for k in keys), keys
    assert P.catalogue() == {lesson: len(qs) for lesson, qs in P.QUESTIONS.items()}


def all_problems(seeds=range(8)):
    for lesson, questions in P.QUESTIONS.items():
        for q in questions:
            for s in seeds:
                yield q.draw(s)


def test_every_draw_is_answered_right_by_its_own_answer_and_never_by_a_mistake():
    for p in all_problems(range(30)):
        if p.kind == "choice":
            assert p.answer in p.options and len(set(p.options)) == len(p.options)
            assert P.check(p, p.answer).correct
            assert {m.value for m in p.mistakes} <= set(p.options) - {p.answer}
            for m in p.mistakes:
                assert P.check(p, m.value).kind == "mistake" and m.why in P.check(p, m.value).message
        else:
            assert math.isfinite(float(p.answer)), (p.key, p.seed)
            assert P.check(p, repr(float(p.answer))).correct, (p.key, p.seed)
            for m in p.mistakes:
                # a mistake is apart from the answer by more than twice the tolerance
                assert abs(float(m.value) - float(p.answer)) > 2 * p.tolerance, (p.key, p.seed, m)
                verdict = P.check(p, repr(float(m.value)))
                assert verdict.kind == "mistake" and not verdict.correct, (p.key, p.seed, m, verdict)
                assert m.why in verdict.message


def test_every_question_recognises_a_common_wrong_answer():
    for lesson, questions in P.QUESTIONS.items():
        for q in questions:
            with_mistakes = sum(bool(q.draw(s).mistakes) for s in range(20))
            assert with_mistakes >= 18, (lesson, q.key, with_mistakes)


def test_the_story_layer_rules_hold_in_every_text():
    """No library or R names and no formulas in code text (issue 26), no 'None'/'nan'."""
    banned = re.compile(r"\btk\.|teachkit|survfit|survdiff|coxph|rpact|getDesign|Phi\^-1|\bNone\b|\bnan\b|\binf\b")
    for p in all_problems(range(5)):
        for text in (p.prompt, p.hint, p.worked, p.title, p.label, p.tolerance_text,
                     *(m.why for m in p.mistakes), *p.options):
            assert not banned.search(text), (p.lesson, p.key, banned.search(text).group(0), text)
        assert p.hint and p.worked and p.prompt


def test_the_tolerance_is_stated_for_every_number_question():
    for p in all_problems(range(3)):
        if p.kind == "number":
            assert p.tolerance_text.startswith(("Right within ±", "Give a whole number"))
    km = draws("01", "km-step")[0]
    assert km.tolerance_text == "Right within ±0.005."
    events = draws("04", "events-hr")[0]
    assert events.tolerance_text == "Right within ±1 events."


# ------------------------------------------------------- answers against independent sums
def km_by_hand(times, events, t):
    s = 1.0
    times, events = np.asarray(times), np.asarray(events)
    for u in np.unique(times[(events == 1) & (times <= t)]):
        at_risk = np.sum(times >= u)
        d = np.sum((times == u) & (events == 1))
        s *= 1 - d / at_risk
    return s


def test_lesson_00_answers():
    for p in draws("00", "information"):
        assert p.answer == pytest.approx(100 * p.data["events"] / 131)
    for p in draws("00", "risk-reduction"):
        assert p.answer == pytest.approx(100 * (1 - p.data["hazard_ratio"]))
    for p in draws("00", "crossed"):
        assert p.answer.startswith("Yes") == (p.data["p"] < p.data["boundary"])
    for p in draws("00", "interval"):
        assert p.answer.startswith("Yes") == (p.data["ci_lower"] <= 1 <= p.data["ci_upper"])


def test_lesson_01_answers():
    for p in draws("01", "at-risk"):
        times = np.array(p.data["times"])
        assert p.answer == np.sum(times >= p.data["week"])
    for p in draws("01", "km-step"):
        expected = np.prod([1 - d / n for _, n, d in p.data["rows"]])
        assert p.answer == pytest.approx(expected, abs=1e-12)
        assert p.answer == pytest.approx(km_by_hand(p.data["times"], p.data["events"], p.data["rows"][-1][0]))
    for p in draws("01", "km-patients"):
        assert p.answer == pytest.approx(km_by_hand(p.data["times"], p.data["events"], p.data["week"]))
    for p in draws("01", "median"):
        weeks, surv = np.array(p.data["weeks"]), np.array(p.data["survival"])
        assert p.answer == weeks[np.argmax(surv <= 0.5)]


def test_lesson_02_answers():
    for p in draws("02", "o-minus-e"):
        d = p.data
        assert p.answer == pytest.approx(d["o1"] - d["d"] * d["n1"] / (d["n1"] + d["n2"]), abs=1e-12)
    for p in draws("02", "p-from-z"):
        assert p.answer == pytest.approx(1 - PHI(p.data["z"]), abs=1e-12)
    for p in draws("02", "hr-from-z"):
        assert p.answer == pytest.approx(math.exp(-2 * p.data["z"] / math.sqrt(p.data["events"])), rel=1e-12)
    for p in draws("02", "significant"):
        assert p.answer.startswith("Yes") == (p.data["ci_upper"] < 1)


def risk_by_hand(site, months, mrd, blasts):
    if blasts > 25:
        return "early treatment failure"
    limit = 18 if site == "extramedullary" else 36
    if months < limit:
        return "high"
    return "intermediate" if mrd >= 0.1 else "low"


def test_lesson_03_answers():
    for p in draws("03", "risk-group", range(60)):
        assert p.answer == risk_by_hand(**p.data)
    for p in draws("03", "stratum", range(60)):
        d = p.data
        group = risk_by_hand(**d)
        if group == "intermediate":
            expected = "intermediate"
        elif d["site"] == "extramedullary":
            expected = "high, isolated extramedullary <18 mo"
        else:
            band = "<18 mo" if d["months"] < 18 else "18-36 mo"
            expected = f"high, marrow {band}, MRD {'>=0.1%' if d['mrd'] >= 0.1 else '<0.1%'}"
        assert p.answer == expected, d
    for p in draws("03", "count-high"):
        assert p.answer == sum(risk_by_hand(*patient) == "high" for patient in p.data["patients"])


def test_lesson_04_answers():
    za, zb = Z(1 - 0.025), Z(0.85)
    for p in draws("04", "events-hr"):
        assert p.answer == pytest.approx(4 * (za + zb) ** 2 / math.log(p.data["hazard_ratio"]) ** 2, rel=1e-9)
        assert p.data["base_events"] == pytest.approx(4 * (za + zb) ** 2 / math.log(0.58) ** 2, rel=1e-9)
    for p in draws("04", "event-probability"):
        assert p.answer == pytest.approx(100 * (1 - p.data["s2"] ** (p.data["years"] / 2)), rel=1e-9)
    for p in draws("04", "patients"):
        assert p.answer == pytest.approx(p.data["events"] / p.data["p"])
    for p in draws("04", "drift"):
        assert p.answer == pytest.approx(-math.log(p.data["hazard_ratio"]) * math.sqrt(p.data["events"] / 4))


def obf_spending(t, alpha=0.025):
    return 2 - 2 * PHI(Z(1 - alpha / 2) / math.sqrt(t))


def test_lesson_05_answers():
    for p in draws("05", "alpha-increment"):
        fractions, k = p.data["fractions"], p.data["look"]
        spend = obf_spending if p.data["spending"] == "obrien-fleming" else \
            (lambda t: 0.025 * math.log(1 + (math.e - 1) * t))
        assert p.answer == pytest.approx(spend(fractions[k - 1]) - spend(fractions[k - 2]), abs=1.1e-5)
    for p in draws("05", "pocock"):
        assert p.answer == pytest.approx(0.025 * math.log(1 + (math.e - 1) * p.data["t"]), rel=1e-9)
    for p in draws("05", "first-crossing"):
        crossed = [i + 1 for i, (z, c) in enumerate(zip(p.data["z"], p.data["boundaries"])) if z >= c]
        assert p.answer == (crossed[0] if crossed else 0)


def test_lesson_05_boundaries_are_the_published_kind():
    """The boundaries shown are the library's; check one against the classical values (3 looks,
    O'Brien-Fleming-type, one-sided 0.025: about 3.71, 2.51, 1.99, as rpact/gsDesign give)."""
    from teachkit import sequential

    d = sequential.group_sequential_design([1 / 3, 2 / 3, 1], alpha=0.025, spending="obrien-fleming")
    assert np.round(d.z_efficacy, 2).tolist() == [3.71, 2.51, 1.99]


def test_lesson_06_answers():
    for p in draws("06", "b-value"):
        assert p.answer == pytest.approx(p.data["z"] * math.sqrt(p.data["t"]))
    for p in draws("06", "conditional-power"):
        t, z, c = p.data["t"], p.data["z"], p.data["c"]
        b = z * math.sqrt(t)
        assert p.answer == pytest.approx(PHI((b + (b / t) * (1 - t) - c) / math.sqrt(1 - t)), abs=1e-9)
    for p in draws("06", "decision"):
        d = p.data
        expected = "Stop for benefit" if d["z"] >= d["z_efficacy"] else \
            "Stop for futility" if d["z"] < d["z_futility"] else "Neither"
        assert p.answer.startswith(expected)


def test_lesson_07_answers():
    z975 = Z(0.975)
    for p in draws("07", "ci-ratio"):
        assert p.answer == pytest.approx(math.exp(4 * z975 / math.sqrt(p.data["events"])), rel=1e-9)
    for p in draws("07", "ci-lower"):
        hr, d = p.data["hazard_ratio"], p.data["events"]
        assert p.answer == pytest.approx(math.exp(math.log(hr) - z975 * 2 / math.sqrt(d)), rel=1e-9)
    for p in draws("07", "events-for-width"):
        assert p.answer == pytest.approx(p.data["events"] * p.data["factor"] ** 2)


# --------------------------------------------------------- the mistakes a learner makes
def test_km_recognises_censored_children_kept_at_risk():
    for p in draws("01", "km-patients", range(10)):
        times, events = np.array(p.data["times"]), np.array(p.data["events"])
        late = np.where(events == 1, times, times.max() + 1)
        kept = km_by_hand(late, events, p.data["week"])
        if abs(kept - p.answer) > 2 * p.tolerance:
            verdict = P.check(p, f"{kept:.3f}")
            assert verdict.kind == "mistake" and "after they left" in verdict.message, verdict
            break
    else:
        pytest.fail("no draw where keeping censored children at risk changes the answer")


def test_at_risk_recognises_censored_counted_after_their_time():
    hits = 0
    for p in draws("01", "at-risk"):
        times, events = np.array(p.data["times"]), np.array(p.data["events"])
        t = p.data["week"]
        wrong = len(times) - np.sum((times < t) & (events == 1))
        if wrong != p.answer:
            verdict = P.check(p, str(wrong))
            assert verdict.kind == "mistake" and "censored" in verdict.message
            hits += 1
    assert hits >= 20


def test_other_common_mistakes_are_named():
    p = draws("02", "p-from-z")[0]
    assert "two-sided" in P.check(p, f"{2 * (1 - p.data['phi']):.4f}").message
    p = draws("04", "events-hr")[0]
    ratio = math.log(0.58) / math.log(p.data["hazard_ratio"])
    assert "square" in P.check(p, f"{p.data['base_events'] * ratio:.1f}").message
    p = draws("06", "b-value")[0]
    assert "square root" in P.check(p, f"{p.data['z'] * p.data['t']:.3f}").message
    p = draws("07", "events-for-width")[0]
    assert "square root" in P.check(p, f"{p.data['events'] * p.data['factor']:g}").message


def test_format_slips_are_pointed_out_without_counting():
    p = draws("00", "information")[0]
    verdict = P.check(p, f"{p.answer / 100:.4f}")
    assert verdict.kind == "format" and not verdict.counts_as_try and "percentage" in verdict.message
    assert P.check(p, f"{p.answer:.2f}%").correct
    km = draws("01", "km-step")[0]
    assert P.check(km, f"{100 * km.answer:.2f}%").correct     # 82.0% of a proportion question is 0.820
    verdict = P.check(km, f"{100 * km.answer:.2f}")
    assert verdict.kind == "format" and "proportion" in verdict.message
    for text in ("", "   ", "abc", "1/0"):
        assert P.check(km, text).kind == "unreadable" and not P.check(km, text).counts_as_try
    close = P.check(km, f"{km.answer + 0.02:.4f}")
    assert close.kind == "wrong" and close.counts_as_try and "keep more decimals" in close.message


def test_parse_number():
    assert P.parse_number("0.5") == (0.5, False)
    assert P.parse_number("1 234") == (1234.0, False)
    assert P.parse_number("12,5%") == (12.5, True)
    assert P.parse_number("\u22123/4") == (-0.75, False)
    for bad in ("", "1.2.3", "5 events", "nan", "inf", "1e999"):
        with pytest.raises(ValueError, match="text must be"):
            P.parse_number(bad)
    with pytest.raises(TypeError, match="text must be a string"):
        P.parse_number(3)


# ------------------------------------------------------------------ fresh data per attempt
def test_each_attempt_draws_fresh_data_from_its_seed():
    for lesson, questions in P.QUESTIONS.items():
        for q in questions:
            a, b = q.draw(11), q.draw(11)
            assert a == b or (a.prompt == b.prompt and a.answer == b.answer), (lesson, q.key)
            prompts = {q.draw(s).prompt for s in range(12)}
            assert len(prompts) >= 6, (lesson, q.key, len(prompts))


def test_try_another_gives_new_numbers_and_resets_the_tries():
    p = P.Practice("01", seed=5)
    first = p.problem()
    p.answer("0")
    assert p.tries == 1
    second = p.another()
    assert second.seed != first.seed and second.data != first.data and p.tries == 0
    assert P.Practice("01", seed=5).problem() == first            # reproducible from the seed
    assert P.Practice("01").seed != P.Practice("01").seed         # each widget its own draws


# --------------------------------------------------------------------------- the flow
def test_worked_answer_after_two_wrong_tries_and_what_counts():
    p = P.Practice("02", seed=3)
    prob = p.problem()
    assert not p.worked_shown
    p.answer("abc")                                  # unreadable: not a try
    assert p.tries == 0
    first = p.answer("1000")
    assert not first.correct and not p.worked_shown
    second = p.answer("1001")
    assert p.worked_shown and "worked answer is below" in second.message
    late = p.answer(repr(float(prob.answer)))
    assert late.correct and p.right == () and "Try another" in late.message
    fresh = p.another()
    assert p.answer(repr(float(fresh.answer))).correct and p.right == ("o-minus-e",)


def test_navigation_and_choice_questions():
    p = P.Practice("00", seed=2)
    assert p.go(2).kind == "choice"
    prob = p.problem()
    assert P.check(prob, None).kind == "unreadable"
    with pytest.raises(ValueError, match="response must be one of"):
        P.check(prob, "maybe")
    assert p.answer(prob.answer).correct and p.right == ("crossed",)
    with pytest.raises(ValueError, match="i must be a question number"):
        p.go(9)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="lesson must be one of"):
        P.Practice("08")
    with pytest.raises(TypeError, match="lesson must be"):
        P.Practice(None)
    with pytest.raises(ValueError, match="seed must be"):
        P.Practice("01", seed=-1)
    with pytest.raises(ValueError, match="seed must be"):
        P.QUESTIONS["01"][0].draw(1.5)
    with pytest.raises(TypeError, match="problem must be"):
        P.check("x", "1")
    assert P.lesson_key(4) == P.lesson_key("04-planning-events") == "04"


def test_practice_for_is_exported():
    assert explorers.practice_for is P.practice_for
    p = explorers.practice_for("07", seed=1)
    assert isinstance(p, explorers.Practice) and p.lesson == "07"


# ------------------------------------------------------------------------- the widget
def test_widget_is_labelled_live_and_exposes_its_progress():
    p = P.Practice("00", seed=4)
    box = p.widget
    assert {"tk-panel", "tk-practice"} <= set(box._dom_classes)
    assert p._text.description.startswith("Information at the look")
    assert "tk-live" in p._feedback._dom_classes
    assert "tk-practice-state" in p._state._dom_classes
    assert 'data-lesson="00"' in p._state.value and 'data-right=""' in p._state.value
    assert 'data-keys="information risk-reduction crossed interval"' in p._state.value
    p._text.value = f"{p.problem().answer:.1f}"
    p._on_check()
    assert "Right." in p._feedback.value and 'data-right="information"' in p._state.value
    assert "(answered right)" in p._position.value
    p._on_text_msg(p._text, {"event": "submit"}, [])              # Enter checks again: still right
    assert "Right." in p._feedback.value
    p.go(2)                                                       # a choice question: a named radio group
    assert p._choice.layout.display == "" and p._text.layout.display == "none"
    assert "tk-radiogroup" in p._choice._dom_classes and p._choice.description
    p._choice.value = p.problem().options[0]
    p._on_check()
    assert re.search("Right|Not quite", p._feedback.value)
    p._toggle_hint()
    assert p._hint.layout.display == "" and p._hint_button.description == "Hide the hint"
    assert "tk-disclosure" in p._hint_button._dom_classes


def test_frontend_and_home_page_pieces_use_one_storage_key():
    assert P.STORAGE_KEY == "teachkit:practice"
    assert P.STORAGE_KEY in P.FRONTEND and P.STORAGE_KEY in P.HOME_SCRIPT
    assert "localStorage" in P.FRONTEND and "fetch(" not in P.FRONTEND and "XMLHttpRequest" not in P.FRONTEND
    html = P.progress_html("03")
    assert 'data-tk-practice-lesson="03"' in html and 'data-tk-practice-total="3"' in html


# ------------------------------------------------------------- the exercises on the home
def test_exercises_on_the_course_home_where_it_is_served(tmp_path, monkeypatch):
    import json
    import sys

    lessons = tmp_path / "lessons"
    lessons.mkdir()
    # teachkit lessons on a computer: no exercises beside the lessons
    text = P.exercises_html(lessons)
    assert "need a little Python; the lessons do not" in text and "<a " not in text
    # Binder and a hub: binder/postBuild made exercises/ beside lessons/
    exercises = tmp_path / "exercises"
    exercises.mkdir()
    for name, first in (("km-by-hand", "# Assignment 1: a Kaplan-Meier table by hand\n\n*Goes with lesson 01.*"),
                        ("risk-groups", "# Assignment 3: risk groups\n\n*Goes with lesson 03.*"),
                        ("how-to-run-a-cell", "# How to run a cell (about 10 minutes)")):
        (exercises / f"{name}.ipynb").write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": first}]}))
    text = P.exercises_html(lessons)
    links = re.findall(r'data-tk-notebook="([^"]+)" href="([^"]+)">([^<]+)</a>', text)
    assert [(n, h) for n, h, _ in links] == [
        ("exercises/how-to-run-a-cell.ipynb", "../../../notebooks/exercises/how-to-run-a-cell.ipynb"),
        ("exercises/km-by-hand.ipynb", "../../../notebooks/exercises/km-by-hand.ipynb"),
        ("exercises/risk-groups.ipynb", "../../../notebooks/exercises/risk-groups.ipynb")]
    assert links[1][2] == "A Kaplan-Meier table by hand" and "(goes with lesson 01)" in text
    assert "File → Download" in text and "baseUrl" in text
    # the no-install site: Python in the browser
    monkeypatch.setattr(sys, "platform", "emscripten")
    text = P.exercises_html(lessons)
    assert 'data-tk-site-path="practice/index.html"' in text and "data-tk-notebook=" not in text


def test_the_course_home_cell_is_the_one_the_site_knows():
    """lessons/index.ipynb calls show_exercises in one cell; the static site's home
    (tools/site/pages.py) knows that cell and shows its own Practice links there."""
    import importlib.util
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("_site_pages", root / "tools" / "site" / "pages.py")
    pages = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pages)
    home = json.loads((root / "lessons" / "index.ipynb").read_text())
    cells = ["".join(c["source"]).strip() for c in home["cells"] if c["cell_type"] == "code"]
    assert pages.EXERCISES_CELL in cells
    assert "need a little Python; the lessons do not" in pages.PRACTICE_LINKS


# ------------------------------------------------- each lesson's coding exercise, under its questions
def test_each_lessons_exercise_is_the_assignment_that_goes_with_it():
    """EXERCISE_FOR_LESSON against course/source: each assignment's first cell says "Goes with
    lesson NN" and its title; every assignment is some lesson's exercise."""
    import json
    from pathlib import Path

    source = Path(__file__).resolve().parents[1] / "course" / "source"
    if not source.is_dir():
        pytest.skip("no course/source in this checkout")
    found = {}
    for nb in sorted(source.glob("*/*.ipynb")):
        first = "".join(json.loads(nb.read_text())["cells"][0]["source"])
        lesson = re.search(r"Goes with lesson (\d\d)", first).group(1)
        title = re.search(r"^# Assignment \d+:\s*(.+)$", first, re.M).group(1).strip()
        found[lesson] = (nb.stem, title.replace(" — ", ": "))
    assert {k: v[0] for k, v in P.EXERCISE_FOR_LESSON.items()} == {k: v[0] for k, v in found.items()}
    for lesson, (name, title) in P.EXERCISE_FOR_LESSON.items():
        assert title.lower() == found[lesson][1].lower(), (lesson, title, found[lesson][1])
    assert "00" not in P.EXERCISE_FOR_LESSON


def test_each_lesson_links_its_exercise_where_it_is_served(tmp_path, monkeypatch):
    import json
    import sys

    import newcomer

    lessons = tmp_path / "lessons"
    lessons.mkdir()
    # on a computer: where to find it, no link, no script
    text = P.lesson_exercise_html("01", lessons)
    assert "needs a little Python" in text and "A Kaplan-Meier table by hand" in text
    assert "<a " not in text and "<script" not in text
    assert 'class="tk-practice tk-practice-exercise"' in text     # the practice's time, not the story's
    zero = P.lesson_exercise_html("00", lessons)
    assert "How to run a cell" in zero and "need a little Python, the lessons do not" in zero
    # Binder and a hub: exercises/ beside lessons/
    (tmp_path / "exercises").mkdir()
    for name in ("km-by-hand", "how-to-run-a-cell"):
        (tmp_path / "exercises" / f"{name}.ipynb").write_text(json.dumps({"cells": []}))
    text = P.lesson_exercise_html(1, lessons)
    assert re.findall(r'data-tk-notebook="([^"]+)" href="([^"]+)"', text) == [
        ("exercises/km-by-hand.ipynb", "../../../notebooks/exercises/km-by-hand.ipynb")]
    assert "baseUrl" in text
    assert "data-tk-notebook=\"exercises/how-to-run-a-cell.ipynb\"" in P.lesson_exercise_html("00", lessons)
    # lesson 02's exercise is not there: no dead link
    assert "<a " not in P.lesson_exercise_html("02", lessons)
    # the no-install site: the notebook in the Practice section, and the Practice page to hand in
    monkeypatch.setattr(sys, "platform", "emscripten")
    text = P.lesson_exercise_html("06", lessons)
    assert re.findall(r'data-tk-site-path="([^"]+)" href="([^"]+)"', text) == [
        ("notebooks/index.html?path=practice/interim-decision.ipynb",
         "../../notebooks/index.html?path=practice/interim-decision.ipynb"),
        ("practice/index.html", "../../practice/index.html")]
    for lesson in P.LESSONS:
        shown = re.sub(r"<script.*?</script>|<[^>]+>", " ", P.lesson_exercise_html(lesson, lessons), flags=re.S)
        assert newcomer.story_lint(shown) == [], lesson
    with pytest.raises(ValueError, match="lesson"):
        P.lesson_exercise_html("08")


# ------------------------------------------------------------- the practice cell of each lesson
def _lessons():
    from pathlib import Path

    return sorted((Path(__file__).resolve().parents[1] / "lessons").glob("[0-9][0-9]-*.ipynb"))


#: Lessons whose practice cell is in: 04-07 are being finished by their writer (the
#: coordinator adds their cell; then this is every lesson).
WITH_PRACTICE = ("00", "01", "02", "03", "04", "05", "06", "07")


@pytest.mark.parametrize("lesson", WITH_PRACTICE)
def test_the_lesson_has_one_practice_cell_under_a_heading_with_its_time(lesson):
    """One code cell ``tk.explorers.practice_for("NN")`` near the end (after the check, before
    the 'What next' link), under a markdown heading "## Practice (optional, about N min)" whose
    N is the practice's own time on the newcomer model (tests/newcomer.py: practice_minutes;
    the story's time does not count it)."""
    import json

    import newcomer

    path = next(p for p in _lessons() if p.name.startswith(lesson))
    cells = json.loads(path.read_text())["cells"]
    text = ["".join(c["source"]) for c in cells]
    calls = [i for i, (c, t) in enumerate(zip(cells, text)) if "practice_for" in t]
    assert len(calls) == 1, calls
    i = calls[0]
    assert cells[i]["cell_type"] == "code" and text[i].strip() == f'tk.explorers.practice_for("{lesson}")'
    assert "depth" not in (cells[i]["metadata"].get("tags") or [])
    heading = text[i - 1]
    assert cells[i - 1]["cell_type"] == "markdown" and heading.startswith("## Practice")
    stated = newcomer.practice_time(heading)
    model = newcomer.practice_minutes(len(P.QUESTIONS[lesson]))
    assert stated is not None and abs(stated - model) <= newcomer.tolerance(model), (stated, model)
    checks = [j for j, t in enumerate(text) if "CheckYourself" in t or "committee_check()" in t]  # 06: the room's
    nexts = [j for j, t in enumerate(text) if "**What next" in t]
    assert checks and checks[-1] < i - 1 and nexts and i < nexts[0], (checks, i, nexts)
