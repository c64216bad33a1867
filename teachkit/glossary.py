"""The words of the lessons: one list, from which the glossary page, the definitions shown
in place in a lesson, and the checks of the lessons' glossary links are all made.

A lesson writes the first use of a term in its story as ``[term](glossary.ipynb#slug)``;
the lesson page (Voila's markdown renderer, :mod:`teachkit._mathml`; the static site's
build) shows the term's plain-words definition on hover, focus and tap, and keeps the link,
which opens the glossary beside the lesson.  ``lessons/glossary.ipynb`` is made from
:data:`ENTRIES` (``python -m teachkit.glossary --write lessons/glossary.ipynb``; a test
fails when it is out of step).

Each :class:`Entry` has a ``slug`` (the link's ``#slug``: lower case, words joined by
``-``), the ``term`` as the glossary shows it, the ``lessons`` that teach it, a ``plain``
definition in plain words (no formula as TeX: it is shown in a small box), and an optional
``statistician`` note (markdown, formulas allowed), folded on the glossary page.

Medical words are defined as the paper uses them (Brown et al., JAMA 2021; sections named
where a definition rests on it); the statistical ones as the lessons teach them.

>>> entry("censored").term
'Censored'
>>> entry("no-such-word")
Traceback (most recent call last):
...
ValueError: slug 'no-such-word' is not in the glossary (teachkit.glossary.ENTRIES)
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Entry", "ENTRIES", "entry", "slugs", "definition_html", "term_html", "notebook", "SLUG"]

#: What a slug looks like.
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Entry:
    """One word of the glossary (see the module's docstring)."""

    slug: str
    term: str
    lessons: tuple
    plain: str
    statistician: str = ""

    def __post_init__(self):
        if not isinstance(self.slug, str) or not SLUG.match(self.slug):
            raise ValueError(f"slug must be lower-case words joined by '-', got {self.slug!r}")
        for name in ("term", "plain"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} of {self.slug!r} must be a non-empty string")
        if "$" in self.plain:
            raise ValueError(f"plain of {self.slug!r} must not hold TeX: it is shown in a small box")
        if not isinstance(self.lessons, tuple) or not all(re.fullmatch(r"0[0-7]", x) for x in self.lessons):
            raise ValueError(f"lessons of {self.slug!r} must be a tuple of lesson numbers '00'-'07'")


E = Entry
#: The glossary, in the order of the page (alphabetical by term).
ENTRIES: tuple[Entry, ...] = tuple(sorted((
    # ---- the trial and the disease ------------------------------------------------------
    E("b-all", "B-ALL (B-cell acute lymphoblastic leukaemia)", ("00",),
      "A blood cancer of children and young adults: immature B cells (one kind of white blood cell) "
      "multiply in the bone marrow and crowd out normal blood. AALL1331 treated patients whose B-ALL had "
      "come back (relapsed) for the first time."),
    E("blasts", "Blasts", ("03",),
      "Immature blood cells. In leukaemia the bone marrow fills with leukaemic blasts; the share of blasts "
      "in a marrow sample, seen under the microscope, shows how much disease is left. AALL1331 counted "
      "fewer than 5% marrow blasts as remission, and more than 25% after reinduction as early treatment "
      "failure.",
      "The paper's thresholds: complete remission < 5% marrow blasts; early treatment failure > 25% "
      "marrow blasts (or CNS leukaemia not cleared) after reinduction; late treatment failure, a DFS event, "
      "≥ 5% marrow blasts after the first course of randomized therapy (Methods, Postreinduction "
      "Evaluation and Risk Assignment; Outcomes)."),
    E("cns", "CNS (central nervous system)", ("03",),
      "The brain and spinal cord. Leukaemia can hide there, where many drugs do not reach, so patients "
      "also receive chemotherapy into the fluid around the spinal cord (intrathecal therapy)."),
    E("extramedullary", "Extramedullary (isolated extramedullary relapse)", ("03",),
      "Outside the bone marrow. An *isolated extramedullary* relapse is leukaemia that comes back only "
      "outside the marrow, for example in the central nervous system (CNS) or a testis."),
    E("cytogenetics", "Cytogenetics", ("03",),
      "The study of a cell's chromosomes. In leukaemia, some chromosome changes in the cancer cells go "
      "with a better outlook and others with a worse one; AALL1331's Table 1 groups patients by the "
      "changes found when they were first diagnosed."),
    E("flow-cytometry", "Flow cytometry", ("03",),
      "A laboratory method that passes cells one by one through a laser beam and sorts them by the "
      "markers on their surface. It can find a few leukaemia cells among many thousands of normal cells, "
      "which is how AALL1331 measured MRD (to 1 cell in 10,000)."),
    E("mrd", "MRD (minimal residual disease)", ("00", "03", "06"),
      "Leukaemia cells left after treatment, far too few to see under a microscope, counted per 100 "
      "marrow or blood cells with flow cytometry or a DNA test. The more is left, the more likely the "
      "leukaemia comes back. AALL1331 called MRD positive from 0.01% (1 cell in 10,000).",
      "MRD after reinduction also sorted patients into risk groups (0.1% was the cut between "
      "intermediate and low risk for late relapses); MRD negativity after the randomized cycles was an "
      "exploratory end point (Table 1 note b; Methods)."),
    E("reinduction", "Reinduction", ("00", "03"),
      "The first block of treatment after a relapse: four weeks of chemotherapy meant to bring the "
      "leukaemia back into remission. In AALL1331 every patient had the same reinduction; the risk group "
      "and the randomization came after it."),
    E("consolidation", "Consolidation", ("00",),
      "Treatment given after remission is reached, to kill the leukaemia cells that remain. AALL1331 "
      "compared two consolidations before a transplant: blinatumomab or chemotherapy."),
    E("hsct", "HSCT (haematopoietic stem cell transplant)", ("00", "06"),
      "Replacing a patient's blood-forming cells with a donor's after very strong treatment: the usual "
      "next step for children with high- or intermediate-risk relapse. In AALL1331 both arms aimed to "
      "reach a transplant after their two cycles."),
    E("blinatumomab", "Blinatumomab", ("00",),
      "An immunotherapy: an antibody-like drug that links the patient's own T cells (immune cells) to "
      "leukaemia cells carrying the marker CD19, so the T cells kill them. Given as a continuous "
      "infusion for 28 days per cycle."),
    E("febrile-neutropenia", "Febrile neutropenia", ("06",),
      "Fever while the blood has very few neutrophils (the white cells that fight bacteria): a frequent, "
      "dangerous side effect of chemotherapy, because an infection can spread fast."),
    E("mucositis", "Mucositis", ("06",),
      "Painful sores and swelling of the lining of the mouth and gut, caused by chemotherapy damaging "
      "cells that divide quickly."),
    E("sepsis", "Sepsis", ("06",),
      "A life-threatening reaction of the body to an infection that has reached the blood: organs begin to "
      "fail. Patients with few white cells after chemotherapy are at high risk."),
    E("toxicity", "Toxicity, adverse event", ("06",),
      "Harm caused by a treatment (an *adverse event*): infections, sepsis, mucositis and the like. "
      "Trials grade and count them, and a committee watches them as closely as the benefit."),
    # ---- trial design and conduct ---------------------------------------------------------
    E("randomization", "Randomization, randomized", ("00", "03"),
      "Deciding each patient's treatment by chance (like tossing a coin), so that the two arms differ "
      "only by chance and by the treatment: a difference in outcome beyond chance is then the "
      "treatment's doing."),
    E("stratified-randomization", "Stratum, stratified randomization / analysis", ("03",),
      "A *stratum* is a subgroup of patients with the same risk factors. Stratified randomization tosses "
      "the coin separately within each stratum, so each arm gets about the same mix of risks; a "
      "stratified analysis then compares the arms within strata.",
      "The paper says only that randomization was 1:1 and stratified (Methods, Randomization); permuted "
      "blocks within strata are one common way to do it, and the way teachkit's simulator does it."),
    E("open-label", "Open label", ("06",),
      "A trial in which patients and their doctors know which treatment each patient receives. "
      "AALL1331's two treatments (a continuous infusion against chemotherapy cycles) could not be "
      "disguised; only the laboratory measuring MRD was kept unaware of the arm. Open label makes "
      "outcomes that people judge more open to bias than outcomes such as death.",
      "The paper states that the central MRD laboratory was blinded to the treatment group (Methods, "
      "Treatments and Evaluations); it does not use the words 'open label'."),
    E("data-monitoring-committee", "Data monitoring committee (DMC, DSMC)", ("00", "06"),
      "Independent experts who look at a trial's results by arm while it runs, at the interim analyses, "
      "and recommend to continue, change or stop it. Nobody else sees these results during the trial. "
      "AALL1331's was a data and safety monitoring committee."),
    E("end-point", "End point: primary, secondary, exploratory, post hoc", ("00", "06", "07"),
      "What a trial measures to judge a treatment. The *primary* end point is the one the trial is "
      "designed, sized and monitored for (in AALL1331: disease-free survival). *Secondary* end points are "
      "planned but the trial is not built around them; *exploratory* ones are looked at to learn; "
      "*post hoc* ones are chosen after the data were seen. In AALL1331 the secondary and exploratory "
      "results had no adjustment for testing many end points, so they are read as supporting, not as proof.",
      "A secondary end point is not unprotected by definition: a trial can protect key secondary end "
      "points against multiple testing by testing them in a pre-set order after the primary "
      "(hierarchical or gatekeeping testing). AALL1331 did not (Methods, Statistical Analysis; "
      "Discussion, Limitations)."),
    E("disease-free-survival", "Disease-free survival (DFS)", ("00",),
      "The time from randomization until the leukaemia comes back, treatment fails, a second cancer "
      "appears or the patient dies, whichever comes first: AALL1331's primary end point."),
    E("overall-survival", "Overall survival (OS)", ("00", "06"),
      "The time from randomization until death from any cause: AALL1331's secondary end point."),
    E("event", "Event", ("00", "01"),
      "What a survival analysis times: for disease-free survival, a relapse, treatment failure, second "
      "cancer or death. The events, not the patients, carry a survival trial's information."),
    E("equipoise", "Equipoise", ("00", "06"),
      "Honest uncertainty about which treatment is better. Randomizing patients is ethical only while "
      "it lasts; whether it is lost depends on all the evidence, not on one number."),
    E("interim-analysis", "Interim analysis (look)", ("00", "05", "06"),
      "An analysis of the results by arm before the planned end, seen by the data monitoring committee, "
      "which may recommend stopping early."),
    E("information-fraction", "Information fraction", ("00", "05"),
      "How far a trial has come: the events seen so far divided by the events planned. \"61% of the "
      "information\" means 61% of the planned events have happened."),
    E("synthetic-cohort", "Synthetic cohort", ("01", "03"),
      "Made-up patients whose numbers match what the paper publishes (group sizes, survival at two years, "
      "events): AALL1331's patient-level data are not public, so where a lesson needs patients it uses "
      "these and says so."),
    # ---- survival analysis ------------------------------------------------------------------
    E("censored", "Censored", ("01",),
      "A patient whose follow-up ended before an event was seen (the analysis date came, or they left "
      "the study): we know only that their event time is longer than what we saw."),
    E("at-risk", "At risk", ("01",),
      "At a given time, the patients still followed and still event-free just before it: the ones who "
      "could have the next event."),
    E("kaplan-meier-estimate", "Kaplan-Meier estimate", ("01",),
      "The survival curve estimated from censored data: at each event time, multiply the curve by the "
      "share of the patients at risk who did not have the event.",
      "Greenwood's formula gives its standard error; R's survfit is the reference implementation "
      "teachkit matches."),
    E("confidence-band", "Confidence band: plain, log, log-log", ("01",),
      "Three ways to draw a 95% interval around a Kaplan-Meier curve. *Plain* adds and subtracts about "
      "two standard errors (and can leave 0 to 1); *log* and *log-log* do it on a stretched scale, so the "
      "band is lopsided: the *log* band stays above 0 but can pass 1, the *log-log* band stays between "
      "0 and 1.",
      "The log-log band is symmetric on $\\log(-\\log S)$; back on the survival scale it reaches further "
      "towards 0 when $S > e^{-1} \\approx 0.37$ and further towards 1 below."),
    E("median-survival", "Median survival", ("01",),
      "The time at which the survival curve falls to one half (there is none if it never does)."),
    E("hazard-ratio", "Hazard, hazard ratio (HR)", ("00", "02"),
      "The *hazard* is the risk of the event in the next short moment for a patient still event-free. "
      "The hazard ratio is the treated arm's hazard divided by the control arm's: below 1 favours the "
      "treatment (0.70 means 30% less risk at each moment)."),
    E("proportional-hazards", "Proportional hazards", ("02",),
      "The assumption that the hazard ratio is the same at every time, so one number summarizes the "
      "difference between two curves."),
    E("log-rank-test", "Log-rank test", ("02",),
      "The usual test that two survival curves differ: at every event time it compares the events seen "
      "in one arm with those expected if the arms were alike, and adds up the differences."),
    E("cox-model", "Cox model (proportional hazards regression)", ("02",),
      "A regression model for survival data that estimates the hazard ratio of a treatment, possibly "
      "allowing for other factors, assuming proportional hazards."),
    E("odds-ratio", "Odds ratio (OR)", ("07",),
      "For a yes/no outcome: the odds (chance of yes divided by chance of no) in one arm divided by the "
      "odds in the other. For a good outcome such as MRD negativity, above 1 favours the treatment."),
    # ---- testing and planning ---------------------------------------------------------------
    E("one-sided-p", "One-sided P value", ("00", "02"),
      "The chance, if the treatment did nothing, of a result at least this favourable to it. Compare it "
      "with the one-sided alpha (0.025), not with 0.05."),
    E("alpha", "Alpha (α), one-sided alpha", ("00", "04", "05"),
      "The chance, fixed before the trial, of declaring a benefit when there is none (a false claim). "
      "*One-sided*: only \"the new treatment is better\" counts as a claim. A one-sided alpha of 0.025 "
      "sets the same bar in the favourable direction as the two-sided 0.05 you may know."),
    E("significant", "Statistically significant", ("00", "02", "07"),
      "A result whose P value is below the alpha set in advance. *Not significant* does not mean *no "
      "effect*: it means the data could not rule out chance; the confidence interval shows which effects "
      "remain possible."),
    E("plateau", "Plateau (of a survival curve)", ("04",),
      "The level where a survival curve flattens out: patients who stay event-free for good, as if cured. "
      "Patients on the plateau never produce an event, so a trial whose curves reach one can run out of "
      "events however long it follows its patients.",
      "A mixture-cure model, $S(t) = \\pi + (1 - \\pi)e^{-\\lambda t}$ with plateau (cure fraction) $\\pi$: "
      "at most a share $1 - \\pi$ of a group ever has an event. The paper states no cure model; lesson 04 "
      "fits one to the published 2-year DFS and median time to a first event "
      "(`tk.design.cure_fraction_from_survival`, `tk.design.maximum_events`)."),
    E("power", "Power", ("00", "04"),
      "The chance that a trial declares a benefit when the true effect is the one hoped for. A trial with "
      "low power often misses a real effect."),
    E("z-statistic", "Z (the test statistic)", ("02", "04", "05"),
      "A test result on the standard-normal scale: 0 means no difference; about 1.96 corresponds to a "
      "one-sided P of 0.025.",
      "$z_{1-\\alpha}$ is the value a standard normal exceeds with probability $\\alpha$ (1.96 for "
      "$\\alpha = 0.025$)."),
    E("phi", "Φ (Phi), the normal curve's area", ("04", "05", "06"),
      "The Greek capital letter Φ names the area under the standard normal curve to the left of a value: "
      "Φ(1.96) = 0.975. It turns a Z into a probability; read backwards it turns a probability into a Z.",
      "$\\Phi^{-1}$ is its inverse: $z_{1-\\alpha} = \\Phi^{-1}(1-\\alpha)$, and a one-sided P gives "
      "$Z = \\Phi^{-1}(1 - P)$."),
    E("inflation", "Inflation (for the looks)", ("04",),
      "The factor by which a trial with interim looks needs more events than a trial with a single "
      "analysis, for the same power."),
    # ---- looking early ------------------------------------------------------------------------
    E("efficacy-boundary", "Efficacy boundary", ("00", "05", "06"),
      "The Z (or the one-look P, the *nominal P*) that an interim look must reach to stop early for "
      "benefit."),
    E("nominal-p", "Nominal P", ("05", "06"),
      "The ordinary one-look P value that matches a boundary at a look; the committee compares the "
      "observed P with it (AALL1331's interim needed P below about .004)."),
    E("futility-boundary", "Futility boundary", ("05", "06"),
      "A line below which the trial may stop because the hoped-for benefit has become implausible."),
    E("binding-futility", "Binding / non-binding futility", ("04", "05"),
      "Two separate questions. First, how the efficacy boundaries are computed: *non-binding* boundaries "
      "do not count on the futility rule being obeyed (the course's plan; the paper does not say which "
      "AALL1331 used); *binding* "
      "boundaries count on it and can therefore be a little lower at the end. Second, what the committee "
      "does at a look: follow the futility rule or not. With non-binding boundaries the chance of a false "
      "claim stays at its alpha either way.",
      "For the reconstructed plan (looks at 1/3, 2/3, 131 events, HR 0.58): non-binding boundaries are "
      "the same with or without the futility rule, and the power is a little higher if the rule is "
      "ignored than if it is followed; binding boundaries lower the final one, and if the committee then "
      "ignores the rule the type I error exceeds alpha (`tk.aall1331.monitoring_plan().power_table`; "
      "rpact's `bindingFutility`)."),
    E("spending-function", "Alpha spending function", ("05",),
      "A rule, fixed in advance, saying how much of the alpha budget may be used up by each point of the "
      "trial (each information fraction). Whatever the number and timing of the looks, the total chance "
      "of a false claim stays at alpha."),
    E("obrien-fleming", "O'Brien-Fleming-type spending", ("05", "06"),
      "A spending function that keeps almost all of alpha for the end: very strict early boundaries "
      "(a look at a third of the information needs a P near 0.0001), a final boundary close to the "
      "single-analysis one. AALL1331 used it.",
      "Lan and DeMets (1983): $\\alpha(t) = 2 - 2\\Phi(z_{1-\\alpha/2}/\\sqrt{t})$. The *classical* "
      "O'Brien-Fleming boundary (O'Brien and Fleming, 1979) is a constant B-value, for equally spaced "
      "looks fixed in advance."),
    E("pocock", "Pocock-type spending", ("05",),
      "A spending function that spends alpha more evenly: nearly the same boundary at every look, easier "
      "to stop early, but a stricter final boundary than O'Brien-Fleming's.",
      "Lan and DeMets (1983): $\\alpha(t) = \\alpha \\log(1 + (e-1)t)$; the *classical* Pocock boundary "
      "(1977) is the same Z at equally spaced looks."),
    E("hwang-shih-decani", "Hwang-Shih-DeCani spending (gamma)", ("05",),
      "A family of spending functions with a dial, gamma: negative values spend late (like "
      "O'Brien-Fleming), values near 1 spend early (like Pocock).",
      "Hwang, Shih and DeCani (1990): $\\alpha(t) = \\alpha(1 - e^{-\\gamma t})/(1 - e^{-\\gamma})$ "
      "($\\gamma \\ne 0$); $\\gamma = -4$ is close to O'Brien-Fleming, $\\gamma = 1$ to Pocock."),
    E("power-family", "Kim-DeMets power spending (rho)", ("05",),
      "A family of spending functions with a dial, rho: alpha is spent in proportion to the information "
      "fraction raised to the power rho; large rho spends late, rho = 1 spends evenly.",
      "Kim and DeMets (1987): $\\alpha(t) = \\alpha\\, t^{\\rho}$; $\\rho = 3$ is close to "
      "O'Brien-Fleming, $\\rho = 1$ to Pocock."),
    E("classical-boundaries", "Classical O'Brien-Fleming and Pocock boundaries", ("05",),
      "The original boundaries of 1977-1979, defined for a number of equally spaced looks fixed in "
      "advance, before spending functions made the timing of the looks free."),
    E("b-value", "B-value", ("06",),
      "The interim Z rescaled by the information fraction, so that it moves like a random walk with a "
      "drift: on average it climbs in a straight line whose slope is the true effect, plus random wobble.",
      "$B(t) = Z(t)\\sqrt{t}$ (Lan and Wittes, 1988); under a drift $\\theta$, $E[B(t)] = \\theta t$."),
    E("conditional-power", "Conditional power (CP)", ("06",),
      "The chance of ending with a significant result if the trial goes on, given the data so far and an "
      "assumption about the true effect from now on (the hoped-for effect, the current trend, or none)."),
    E("predictive-power", "Predictive power", ("06",),
      "Conditional power averaged over the effects the interim data support, instead of one assumed "
      "effect."),
    E("monte-carlo-error", "Monte Carlo error", ("05", "07"),
      "The uncertainty of a number estimated by simulation, from using finitely many simulated trials; "
      "more replays make it smaller."),
    E("stage-wise-p", "Stage-wise P and adjusted estimates", ("07",),
      "A P value, hazard ratio and confidence interval corrected for the looks a trial took, as if the "
      "committee had acted only on its stopping rule. After a stop the rule did not call for (as in "
      "AALL1331), they are a check of how much the looks matter, not an exact answer.",
      "Stage-wise ordering P, median-unbiased estimate and its confidence interval (Jennison and "
      "Turnbull, 2000, ch. 8); `tk.sequential.inference_after_stop`, as rpact's `getAnalysisResults`."),
), key=lambda e: e.term.lower().replace("α", "alpha").replace("φ", "phi")))
del E

_BY_SLUG = {e.slug: e for e in ENTRIES}
if len(_BY_SLUG) != len(ENTRIES):  # pragma: no cover - caught by the tests
    raise RuntimeError("two glossary entries share a slug")


def slugs() -> tuple:
    """Every slug, in the order of the page."""
    return tuple(e.slug for e in ENTRIES)


def entry(slug: str) -> Entry:
    """The entry named by ``slug`` (ValueError naming it when there is none)."""
    if not isinstance(slug, str):
        raise TypeError(f"slug must be a string, got {type(slug).__name__}")
    try:
        return _BY_SLUG[slug]
    except KeyError:
        raise ValueError(f"slug {slug!r} is not in the glossary (teachkit.glossary.ENTRIES)") from None


# --------------------------------------------------------------------------------------
# In a lesson: the term, its definition in place, and the link to the glossary
# --------------------------------------------------------------------------------------

#: The name of the window (tab) the glossary opens in: every term of every lesson opens the
#: same one, beside the lesson, which keeps its place and its explorers.
WINDOW = "teachkit-glossary"
#: A link to the glossary page: ``glossary.ipynb#slug`` (Voila) or ``glossary.html#slug`` (site).
LINK = re.compile(r"^(?:\./)?glossary\.(?:ipynb|html)#([a-z0-9-]+)$")

_INLINE = [(re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
           (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>")]


def _inline(text: str) -> str:
    """A plain definition as HTML: escaped, with *emphasis* and **strong** (nothing else).

    >>> _inline('the *one-sided* P < 0.025 & "more"')
    'the <em>one-sided</em> P &lt; 0.025 &amp; &quot;more&quot;'
    """
    out = html.escape(text)
    for pattern, repl in _INLINE:
        out = pattern.sub(repl, out)
    return out


def definition_html(slug: str) -> str:
    """The definition shown in place: the term, its plain words, where the rest is."""
    e = entry(slug)
    return (f'<span class="tk-term-name">{_inline(e.term)}</span>: {_inline(e.plain)}'
            '<span class="tk-term-more">The link opens the glossary beside this lesson.</span>')


def term_html(text_html: str, href: str, slug: str, uid: str) -> str:
    """A glossary term in a lesson: the link (kept: it opens the glossary in its own tab),
    a "?" button that shows the definition on tap or click, and the definition, shown also on
    hover and on keyboard focus (the page's script and stylesheet, teachkit-page.html).

    ``text_html`` is the link's text as HTML, ``href`` the link, ``uid`` a page-unique id.

    >>> out = term_html("censored", "glossary.ipynb#censored", "censored", "t1")
    >>> 'target="teachkit-glossary"' in out and 'aria-describedby="tk-def-t1"' in out
    True
    """
    e = entry(slug)
    def_id = f"tk-def-{uid}"
    name = html.escape(re.sub(r"<[^>]+>", "", text_html).strip() or e.term, quote=True)
    return (f'<span class="tk-term" data-tk-term="{e.slug}">'
            f'<a class="tk-term-link" href="{html.escape(href, quote=True)}" target="{WINDOW}" '
            f'aria-describedby="{def_id}">{text_html}</a>'
            f'<button type="button" class="tk-term-toggle" aria-expanded="false" aria-controls="{def_id}" '
            f'aria-label="What does {name} mean?">?</button>'
            f'<span class="tk-term-def" id="{def_id}" role="tooltip">{definition_html(slug)}</span></span>')


_MD_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:\./)?glossary\.(?:ipynb|html)#([a-z0-9-]+))\)")


def glossary_links(markdown: str):
    """``(text, href, slug)`` of every glossary link of a markdown text.

    >>> glossary_links("a [censored](glossary.ipynb#censored) patient; [all](glossary.ipynb)")
    [('censored', 'glossary.ipynb#censored', 'censored')]
    """
    return [m.groups() for m in _MD_LINK.finditer(markdown)]


def link_terms(markdown: str, prefix: str = "t") -> str:
    """The markdown with each glossary link written as :func:`term_html` (the static site's
    build does this; Voila's markdown renderer does it as it renders a link). The link text
    stays as it was written (markdown-escaped only for HTML)."""
    counter = iter(range(1, 10**6))

    def sub(m):
        text, href, slug = m.groups()
        return term_html(html.escape(text), href, slug, f"{prefix}{next(counter)}")

    return _MD_LINK.sub(sub, markdown)


def data_html() -> str:
    """Every definition, for the page's script (a ``<script type="application/json">``): a
    glossary link that a lesson's code prints (``display(Markdown(...))``, drawn in the
    browser, not by the server) is given its definition in place from it.  The Voila
    template includes it as ``glossary-data.html`` (``python -m teachkit.glossary
    --write-data``; a test fails when it is out of step)."""
    data = json.dumps({e.slug: definition_html(e.slug) for e in ENTRIES}, ensure_ascii=False, sort_keys=True)
    data = data.replace("</", "<\\/")           # nothing in it can close the script
    return ("<!-- Made by `python -m teachkit.glossary --write-data` from teachkit/glossary.py: do not edit. -->\n"
            f'<script type="application/json" id="tk-glossary-data">{data}</script>\n')


# --------------------------------------------------------------------------------------
# The glossary page (lessons/glossary.ipynb)
# --------------------------------------------------------------------------------------

INTRO = """# Glossary

The words of the lessons, in alphabetical order: what each means in plain words, and the lesson that \
teaches it. Some have a folded note for the statistician. A lesson opens this page beside itself, so \
your place in the lesson (and its explorers) stays where you left it.

<p class="tk-glossary-back"><a href="index.ipynb">Back to the course</a></p>"""


def _entry_markdown(e: Entry) -> str:
    lessons = ", ".join(e.lessons)
    out = [f'<div class="tk-glossary-entry" id="{e.slug}">', "",
           f"**{e.term}**: {e.plain} *(lesson{'s' if len(e.lessons) > 1 else ''} {lessons})*", ""]
    if e.statistician:
        out += ['<details class="tk-note"><summary>For the statistician</summary>', "", e.statistician, "",
                "</details>", ""]
    out.append("</div>")
    return "\n".join(out)


def notebook() -> dict:
    """``lessons/glossary.ipynb`` as nbformat 4 JSON (a dict): the introduction, then one
    markdown cell per initial letter."""
    groups: dict[str, list[Entry]] = {}
    for e in ENTRIES:
        letter = e.term[0].upper()
        letter = {"Α": "A", "Φ": "P"}.get(letter, letter)
        groups.setdefault(letter, []).append(e)
    cells = [{"cell_type": "markdown", "id": "intro", "metadata": {}, "source": INTRO}]
    for letter in sorted(groups):
        body = f"## {letter}\n\n" + "\n\n".join(_entry_markdown(e) for e in groups[letter])
        cells.append({"cell_type": "markdown", "id": f"letter-{letter.lower()}", "metadata": {}, "source": body})
    for cell in cells:
        lines = cell["source"].split("\n")
        cell["source"] = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    return {"cells": cells,
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def notebook_json() -> str:
    """The glossary notebook as it is committed (one space indent, as Jupyter writes it)."""
    return json.dumps(notebook(), indent=1, ensure_ascii=False) + "\n"


#: Where :func:`data_html` is kept: beside the template that includes it.
DATA_FILE = Path(__file__).resolve().parent / "_jupyter" / "voila" / "templates" / "teachkit" / "glossary-data.html"


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="write the glossary notebook from teachkit.glossary")
    parser.add_argument("--write", type=Path, help="the notebook to write (lessons/glossary.ipynb)")
    parser.add_argument("--write-data", action="store_true",
                        help="write the definitions for the page's script into teachkit's Voila template")
    args = parser.parse_args(argv)
    if args.write_data:
        DATA_FILE.write_text(data_html(), encoding="utf-8")
    elif args.write is None:
        print(notebook_json(), end="")
    else:
        args.write.write_text(notebook_json(), encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
