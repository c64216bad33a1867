"""The committee room (lesson 06): its numbers against rpact, closed forms and the paper;
its state machine (report -> cards -> decision -> reveal); the feedback on every
recommendation and every kind of evidence; its widget, text alternative and live line;
and the check question.  The generic explorer tests (tests/test_explorers.py) run on it
too, since it is in ``explorers.ALL``."""

from __future__ import annotations

import html

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from teachkit import aall1331, explorers, sequential
from teachkit.explorers import committee as cm

DATA = Path(__file__).resolve().parent / "data"
PNG = b"\x89PNG\r\n\x1a\n"


def fact(name):
    return aall1331.fact(name).value


@pytest.fixture(scope="module")
def rpact_plan():
    """The canonical monitoring plan computed by rpact (tests/data/monitoring_plan_rpact.R)."""
    return json.loads((DATA / "monitoring_plan_rpact.json").read_text())


def _decided(choice="close_randomization", **ticks):
    return explorers.CommitteeRoom(cards_shown=4, recommendation=choice, recorded=True,
                                   **{f"moved_{k}": v for k, v in ticks.items()})


# ---- the monitoring report --------------------------------------------------------------

def test_report_is_the_june_2019_look_matched_to_rpact_and_the_paper():
    ref = json.loads((DATA / "sequential_rpact_extra.json").read_text())["interim"]
    plan = json.loads((DATA / "monitoring_plan_rpact.json").read_text())["canonical"]
    r = explorers.CommitteeRoom().result
    rep = r.report
    assert (rep.events, rep.events_planned) == (fact("interim.events"), fact("interim.events_planned"))
    assert math.isclose(rep.z, -ndtri(fact("interim.p_dfs")))           # Z = Phi^-1(1 - P)
    assert math.isclose(rep.z, ref["z"], abs_tol=1e-9)
    # the canonical plan: second interim at 80/131 after a first at 1/3 (rpact)
    np.testing.assert_allclose(rep.design.information_fractions, plan["info"], rtol=1e-12)
    assert math.isclose(rep.z_efficacy, plan["crit"][1], abs_tol=2e-6)
    assert math.isclose(rep.z_futility, plan["futility"][1], abs_tol=1e-9)
    assert round(rep.p_efficacy, 3) == fact("interim.p_critical")        # the paper's .004
    assert rep.efficacy_met is fact("interim.stopping_rule_met") is False
    assert not rep.futility_met
    t, z, c = rep.information_fraction, rep.z, float(rep.design.z_efficacy[-1])
    b = z * math.sqrt(t)
    assert math.isclose(rep.b_value, b)
    # Lan & Wittes (1988) conditional power and the flat-prior predictive power, closed forms
    closed = [ndtr((b + theta * (1 - t) - c) / math.sqrt(1 - t))
              for theta in (rep.drift_design, b / t, 0.0)]
    closed.append(ndtr((z - c * math.sqrt(t)) / math.sqrt(1 - t)))
    values = [v for _, v, _, _ in r.readings]
    np.testing.assert_allclose(values, closed, rtol=1e-9)
    # the drift of the design HR: -log(0.58) sqrt(131 / 4)
    assert math.isclose(rep.drift_design, -math.log(fact("design.hazard_ratio"))
                        * math.sqrt(fact("design.events_planned") / 4))
    # the HR implied at the look, exp(-Z / sqrt(D / 4)), about 0.71 (issue 13, finding 15)
    assert math.isclose(rep.hazard_ratio.estimate, math.exp(-z / math.sqrt(rep.events / 4)))
    assert round(rep.hazard_ratio.estimate, 2) == 0.71


def test_readings_say_which_conditional_power_to_trust():
    r = explorers.CommitteeRoom().result
    names = [n for n, _, _, _ in r.readings]
    assert names == ["CP, design effect", "CP, current trend", "CP, no effect (H0)", "predictive power"]
    text = {n: t for n, _, _, t in r.readings}
    hr = r.report.hazard_ratio
    assert f"HR {fact('design.hazard_ratio'):.2f}" in text["CP, design effect"]
    assert f"HR {hr.estimate:.2f}" in text["CP, design effect"]          # 0.58 vs ~0.71
    assert "optimistic" in text["CP, design effect"]
    assert "noisy" in text["CP, current trend"]
    assert "flat prior" in text["predictive power"]
    # the design effect lies inside the interim CI, so the reading says it cannot be ruled out
    assert hr.ci_lower < fact("design.hazard_ratio") < hr.ci_upper
    assert "cannot be ruled out" in text["CP, design effect"]
    # outside the CI the reading changes (computed, not canned)
    far = sequential.interim_report(80, 131, z=0.3, hazard_ratio_design=0.58, futility_alpha=0.024)
    assert far.hazard_ratio.ci_lower > 0.58
    assert "discounts it" in dict((n, t) for n, _, _, t in cm.conditional_power_readings(far))[
        "CP, design effect"]
    strong = sequential.interim_report(80, 131, z=3.5, hazard_ratio_design=0.58, futility_alpha=0.024)
    assert "cautious" in cm.conditional_power_readings(strong)[0][3]
    # the trial's trend points right at the final boundary (Z ~ c sqrt(t)); others do not
    assert "points right at the final boundary" in text["predictive power"]
    assert "points above" in cm.conditional_power_readings(strong)[3][3]
    assert "points below" in cm.conditional_power_readings(far)[3][3]
    assert "Low here" in text["CP, no effect (H0)"]
    assert "Not low here" in cm.conditional_power_readings(strong)[2][3]
    assert "reconstruction" in r.reconstruction_note.lower() or "Reconstructions" in r.reconstruction_note


# ---- the final analysis (what the choice costs) ------------------------------------------

def test_final_analysis_matches_rpact_on_the_plan_recut(rpact_plan):
    f = cm.final_analysis()
    ref = rpact_plan["recut"]
    assert cm.final_dfs_events() == 107 == sum(
        sum(fact(f"table2.{k}").values()) for k in ("late_treatment_failure", "relapse", "death"))
    np.testing.assert_allclose(f.events, [131 / 3, 80, 107])
    assert math.isnan(f.z[0])                                   # the first look's Z was not published
    np.testing.assert_allclose(f.design.alpha_spent[:2], rpact_plan["canonical"]["alpha_spent"][:2], atol=1e-10)
    np.testing.assert_allclose(f.design.z_efficacy, ref["crit"], atol=2e-6)
    assert math.isclose(f.p_value, ref["final_p"], abs_tol=2e-6)
    assert math.isclose(f.hazard_ratio, ref["median_unbiased_hr"], abs_tol=2e-5)
    assert math.isclose(f.ci_lower, ref["ci"][0], abs_tol=2e-5)
    assert math.isclose(f.ci_upper, ref["ci"][1], abs_tol=2e-5)
    # the interim's spending is O'Brien-Fleming's closed form at 80/131
    t = fact("interim.events") / fact("design.events_planned")
    assert math.isclose(f.design.alpha_spent[1], 2 - 2 * ndtr(-ndtri(0.025 / 2) / math.sqrt(t)))
    # the reconstruction agrees with the paper: naive P .0325 prints as .03, HR 0.70
    assert round(f.naive_p_value, 2) == fact("results.dfs_p_one_sided")
    assert round(f.hazard_ratio, 2) == fact("results.dfs_hazard_ratio")["estimate"]


def test_a_single_look_at_80_events_is_the_naive_p():
    s = cm.single_look_at_80()
    assert math.isclose(s.p_value, fact("interim.p_dfs"), rel_tol=1e-9)
    assert s.p_value > fact("design.alpha_one_sided")


# ---- the evidence cards ---------------------------------------------------------------------

def test_cards_carry_standing_then_published_and_caveats_from_the_paper():
    cards = {c.key: c for c in cm.evidence_cards()}
    assert list(cards) == ["os", "mrd", "toxicity", "transplant"]
    # standing: Methods, Outcomes
    assert (cards["os"].standing, cards["mrd"].standing, cards["transplant"].standing) == \
        ("secondary", "exploratory", "post hoc")
    assert "safety" in cards["toxicity"].standing
    # issue 25: harm in a subgroup, as the paper reports it (ages) and by its own AYA definition
    by_age = aall1331.toxic_deaths_by_age()
    assert "14, 17, 23 and 26" in cards["toxicity"].published
    assert any(f"{by_age.deaths_older} of the {by_age.patients_older}" in c for c in cards["toxicity"].caveats)
    # what the committee cited (Results, Early Closure of Randomization)
    assert [k for k, c in cards.items() if c.cited_by_committee] == ["os", "mrd", "toxicity"]
    for key in ("os", "mrd", "toxicity"):
        assert "not published" in cards[key].then                       # interim numbers
    os_hr = fact("results.os_hazard_ratio")
    assert f"HR for death {os_hr['estimate']:.2f} (95% CI {os_hr['ci_lower']:.2f}-{os_hr['ci_upper']:.2f})" \
        in cards["os"].published
    assert "September 30, 2020" in cards["os"].published                   # from the fact
    mrd = fact("table2.mrd_negative_cycle_1")
    n = fact("flow.analysed")
    assert f"{mrd['blinatumomab']} ({round(100 * mrd['blinatumomab'] / n['blinatumomab'])}%)" in cards["mrd"].published
    assert any("note e" in x and "not MRD-negative" in x for x in cards["mrd"].caveats)
    deaths = fact("results.toxic_deaths")
    assert f"{deaths['blinatumomab']} vs {deaths['chemotherapy']}" in cards["toxicity"].published
    hsct = fact("table2.hsct")
    assert f"{hsct['blinatumomab']} (" in cards["transplant"].published
    assert any("may explain" in x for x in cards["transplant"].caveats)
    for key in ("os", "mrd"):                                              # multiplicity
        assert any("Multiplicity" in x for x in cards[key].caveats)
    for key in ("mrd", "toxicity"):
        assert any("Open-label" in x for x in cards[key].caveats)
    for c in cards.values():
        assert c.sources and c.standing_source and len(c.figure_lines) == 4


# ---- the state machine ----------------------------------------------------------------------

def test_stages_follow_report_cards_decision_reveal():
    ex = explorers.CommitteeRoom()
    assert ex.result.stage == "report" and ex.result.reveal is None and not ex.result.can_record
    for n in (1, 2, 3):
        r = ex.update(cards_shown=n)
        assert r.stage == "cards" and r.cards_shown == n and r.reveal is None
        assert r.cards[n - 1].title in r.summary
    r = ex.update(cards_shown=4)
    assert r.stage == "decision" and not r.can_record and "Choose" in r.record_hint
    r = ex.update(recommendation="continue", moved_os=True, moved_transplant=True)
    assert r.can_record and r.reveal is None                      # chosen is not recorded
    r = ex.update(recorded=True)
    assert r.stage == "reveal" and not r.can_record
    assert r.reveal.recommendation == "continue"
    assert r.reveal.recommendation_label in r.summary
    ticked = {k for k, t, _, _ in r.reveal.evidence_feedback if t}
    assert ticked == {"os", "transplant"} and r.evidence == ("os", "transplant")
    r = ex.update(**ex.defaults())                                 # start again
    assert r.stage == "report" and r.reveal is None and r.recommendation is None


def test_the_reveal_is_not_available_before_a_decision_is_recorded():
    ex = explorers.CommitteeRoom(cards_shown=2, recommendation="modify")
    before = dict(ex.params)
    with pytest.raises(ValueError, match="cards_shown"):
        ex.update(recorded=True)                                   # cards still face down
    assert ex.params == before and ex.result.reveal is None
    ex.update(cards_shown=4, recommendation=None)
    with pytest.raises(ValueError, match="recommendation"):
        ex.update(recorded=True)                                   # nothing chosen
    assert ex.result.reveal is None
    for n in range(4):
        for choice in (None,) + cm.RECOMMENDATIONS:
            r = ex.compute(cards_shown=n, recommendation=choice)
            assert r.reveal is None and "committee recommended" not in r.summary.lower()
            assert "cited by the committee" not in r.alt_text


@pytest.mark.parametrize("bad", [dict(cards_shown=5), dict(cards_shown=-1), dict(cards_shown=True),
                                 dict(cards_shown=2.0), dict(recorded="yes"),
                                 dict(recommendation="stop"), dict(moved_os="yes"),
                                 dict(moved_mrd=1)])
def test_hostile_state_is_refused_naming_it(bad):
    ex = explorers.CommitteeRoom()
    with pytest.raises(ValueError, match=next(iter(bad))):
        ex.update(**bad)
    assert ex.result.stage == "report"


# ---- feedback: every recommendation, every kind of evidence ----------------------------------

@pytest.mark.parametrize("choice", cm.RECOMMENDATIONS)
def test_every_recommendation_gets_reasoned_feedback(choice):
    rep = cm.june_2019_report()
    v = _decided(choice).result.reveal
    assert v.agrees is (choice == "close_randomization")
    assert len(v.feedback) > 300                                   # a reason, not "wrong"
    if choice == "stop_efficacy":
        # no boundary was crossed: the numbers say so, and a single look would not do either
        assert f"Z = {rep.z:.2f} < {rep.z_efficacy:.2f}" in v.feedback
        assert f"P = {cm.single_look_at_80().p_value:.3f}" in v.feedback
        assert "closed randomization" in v.feedback
    elif choice == "continue":
        assert "No boundary was crossed" in v.feedback and "future patients" in v.feedback
        assert f"{rep.conditional_power_trend:.0%}" in v.feedback
    elif choice == "close_randomization":
        assert "what the committee recommended" in v.feedback and "equipoise" in v.feedback
        # issue 25, item 9: the price is the confirmatory answer and unadjusted evidence, not
        # the non-significance (a property of the data)
        assert "confirmatory answer" in v.feedback and "no rule adjusts" in v.feedback
        assert "not the final non-significance" in v.feedback
        assert "smaller than planned" not in v.feedback
    else:
        assert "type I error" in v.feedback and "pre-planned" in v.feedback
    # the committee's reasons, the cost and the context are shown whatever the choice
    assert "loss of clinical equipoise" in v.committee and "Discussion" in v.committee
    assert "June 30, 2019" in v.committee and "September 2019" in v.committee
    f = cm.final_analysis()
    assert f"{f.p_value:.4f}" in v.costs and f"{f.hazard_ratio:.3f}" in v.costs
    assert "reconstruction" in v.costs and "lesson 07" in v.costs
    # issue 25, items 6, 9, 10: the real costs; both readings of the interim HR and the shared
    # events; the closure's share of the missing events beside the plateau; inference labelled
    plan, cost = aall1331.monitoring_plan(), aall1331.closure_cost()
    assert "the confirmatory answer" in v.costs and "property of the data, not of the closure" in v.costs
    assert f"about {cost.events_lost_proportional:.0f} of the {cost.events_missing} events" in v.costs
    assert f"{plan.interim_hazard_ratio:.2f}" in v.costs and f"{plan.interim_hazard_ratio_two_sided:.2f}" in v.costs
    assert f"{plan.interim_events:g} of the {plan.final_events} final events" in v.costs
    assert "as if the stopping rule had been followed: a sensitivity check" in v.costs
    assert "no rule adjusts" in v.costs and "secondary" in v.costs and "exploratory" in v.costs
    assert "accelerated approval" in v.context and "confirmatory" in v.context
    assert "guidelines" in v.context


def test_feedback_texts_differ_between_recommendations():
    texts = {c: _decided(c).result.reveal.feedback for c in cm.RECOMMENDATIONS}
    assert len(set(texts.values())) == len(cm.RECOMMENDATIONS)


@pytest.mark.parametrize("key", cm.EVIDENCE)
@pytest.mark.parametrize("ticked", [True, False])
def test_every_kind_of_evidence_gets_feedback(key, ticked):
    v = _decided(**{key: ticked}).result.reveal
    row = {k: (t, c, text) for k, t, c, text in v.evidence_feedback}
    assert list(row) == list(cm.EVIDENCE)
    t, cited, text = row[key]
    assert t is ticked and cited is (key in cm.COMMITTEE_CITED)
    assert ("You ticked it" if ticked else "You did not tick it") in text
    assert ("the committee cited it" if cited else "the committee did not cite it") in text
    assert {"dfs": "primary", "os": "secondary", "mrd": "exploratory", "toxicity": "safety",
            "transplant": "post hoc"}[key] in text
    hit = int(ticked and cited)
    assert v.evidence_summary.startswith(f"You ticked {hit} of the {len(cm.COMMITTEE_CITED)}")
    assert ("which it did not cite" in v.evidence_summary) is (ticked and not cited)


# ---- the figure, its text alternative, the live line ------------------------------------------

def test_figure_and_text_alternative_follow_the_state():
    ex = explorers.CommitteeRoom()
    rep = ex.result.report
    alt = ex.result.alt_text
    for number in (f"{rep.z:.2f}", f"{rep.z_efficacy:.2f}", f"{rep.z_futility:.2f}",
                   f"{rep.conditional_power_design:.2f}", f"{rep.conditional_power_null:.2f}",
                   f"{rep.predictive_power:.2f}"):
        assert number in alt
    assert "0 of 4 turned over" in alt and "4 face down" in alt
    heads = [head for _, head, _, _, _ in ex._cards]
    assert [h.get_text() for h in heads] == [f"Card {i} of 4" for i in range(1, 5)]
    png = ex.png
    ex.update(cards_shown=2)
    assert [h.get_text() for h in heads][:2] == ["Overall survival", "MRD clearance"]
    assert "2 of 4 turned over" in ex.result.alt_text and "Overall survival (secondary)" in ex.result.alt_text
    assert ex.png != png and ex.png.startswith(PNG)
    assert not any(m.get_visible() for m in ex._final_marks)
    ex.update(cards_shown=4, recommendation="stop_efficacy", recorded=True)
    assert all(m.get_visible() for m in ex._final_marks)         # the final analysis appears
    assert "Decision recorded" in ex.result.alt_text
    cited = [c.get_text() for *_, c in ex._cards]
    assert cited == ["cited by the committee"] * 3 + ["not cited by the committee"]
    assert "Committee" in ex._decision.get_text()


def test_widget_order_labels_buttons_and_reveal():
    import ipywidgets as W

    ex = explorers.CommitteeRoom()
    box = ex.widget
    assert isinstance(box, W.VBox)
    radio = ex._controls["recommendation"]
    assert isinstance(radio, W.RadioButtons) and radio.description == "Your recommendation"
    assert radio.value is None and [label for label, _ in radio.options] == list(cm.RECOMMENDATION_LABELS)
    for k in cm.EVIDENCE:
        box_k = ex._controls[f"moved_{k}"]
        assert isinstance(box_k, W.Checkbox) and box_k.description == cm.EVIDENCE_LABELS[k]
    # the picture's text alternative: hidden text the front end copies into the img alt
    # (never Image.tooltip: it stops ipywidgets 8.1 drawing the image)
    assert ex._image.tooltip is None and "tk-alt" in ex._alt._dom_classes
    assert ex._alt.value == html.escape(ex.result.alt_text)
    assert "Figure description" in ex._figure_text.value
    assert "tk-live" in ex._message._dom_classes and "0 of 4" in ex._message.value
    assert "tk-radiogroup" in radio._dom_classes
    assert "Monitoring report" in ex._report_html.value and "predictive power" in ex._report_html.value
    # pressing Record before the cards: a message, no reveal, no traceback
    ex._record_button.click()
    assert "Not yet" in ex._message.value and ex._reveal_html.value == ""
    assert ex._record_button.disabled
    for i in range(4):
        ex._next_button.click()
        assert ex.params["cards_shown"] == i + 1
        assert ex._cards_html.value.count("Published at the final analysis") == i + 1
    assert ex._next_button.disabled
    radio.value = "close_randomization"                              # a learner chooses
    ex._controls["moved_toxicity"].value = True
    assert not ex._record_button.disabled and ex._reveal_html.value == ""
    ex._record_button.click()
    assert ex.result.stage == "reveal"
    page = ex._reveal_html.value
    assert "Close randomization: equipoise is lost" in page and "the same as the committee" in page
    assert "Serious toxicity and toxic deaths: You ticked it" in page
    assert "What closing randomization cost" in page and "Context" in page
    assert "as if the rule had been followed" in page and "sensitivity check" in page
    # issue 26 (the story's time): the costs in words are shown; the estimates and the inference
    # after the stop are the statistician's, in a closed disclosure; so is the reading of the
    # conditional powers in the report
    v = ex.result.reveal
    assert v.costs == v.costs_story + " " + v.costs_depth
    assert "confirmatory answer" in v.costs_story and "stage-wise" not in v.costs_story
    folded = page[page.index("<details"):page.index("</details>")]
    assert html.escape(v.costs_depth) in folded and "stage-wise P" in folded and "<summary>For the statistician" in folded
    report = ex._report_html.value
    assert "<details" in report and report.index("<details") < report.index("predictive power = ")
    assert radio.disabled and ex._controls["moved_os"].disabled     # a recorded decision is locked
    assert ex._alt.value == html.escape(ex.result.alt_text) and "Decision recorded" in ex._alt.value
    ex._restart_button.click()
    assert ex.result.stage == "report" and ex._reveal_html.value == ""
    assert radio.value is None and not radio.disabled and not ex._controls["moved_toxicity"].value


# ---- the check question ------------------------------------------------------------------------

def test_check_question_needs_reasoning_and_explains_every_wrong_answer():
    q = cm.committee_check()
    rep = cm.june_2019_report()
    assert f"{rep.z:.2f}" in q.question and f"{rep.z_efficacy:.2f}" in q.question
    assert "overall survival pointed the other way" in q.question
    assert q.answer.startswith("Continue")
    for option in q.options:
        correct = q.choose(option)
        assert correct is (option == q.answer)
        assert len(q.feedback) > 200
    q.choose(q.options[0])
    for word in ("Efficacy", "Closing randomization", "Futility"):          # each wrong option
        assert word in q.feedback
    assert f"{rep.z_futility:.2f}" in q.feedback
