"""How long a lesson takes a newcomer, and what its story may not contain (issue 26).

Not a test module: the measurement (JavaScript run on a rendered lesson page), the time
model and the story lint, shared by tests/test_lessons_browser.py (Voila) and
tests/test_newcomer_model.py (the model's fit, no browser).

**The two layers.** A lesson's *story* is everything a learner sees on the page as it
opens, outside the folds; the *depth* is what the folds ``details.tk-fold`` (cells tagged
``depth``, see the Voila template) hold. A fold's summary line belongs to the story.

**The features** (per layer, from the page as rendered, so code cells' outputs count):

* ``words``: words (two letters or more) of the text a learner sees: the lesson's text,
  what its code cells print, and the explorers' own words (labels, readouts, the table
  under a picture, an evidence card), hidden text (a closed "Show the code", a picture's
  text alternative, a definition not yet opened) and formulas excluded; ``panel_words``
  is the explorers' share of it (reported, not in the model);
* ``explorers``: ipywidgets explorers (``.tk-panel``, not a check nor a practice);
* ``checks``: check-yourself questions (``.tk-check``);
* ``tables``: tables outside the explorers (a table is read cell by cell);
* ``formulas``: display formulas (a formula on its own line: MathML ``display=block``, or
  MathJax's display);
* ``figures``: static figures outside the explorers (``.tk-figure``);
* ``practice``: practice widgets (``.tk-practice``; reported, not in the story's time).

**Practice is its own optional time** (the coordinator's rule): the practice questions at a
lesson's end (and the line under them linking the lesson's coding exercise, also
``.tk-practice``) are not story; their section's heading states their time,
``## Practice (optional, about N min)``, with N from :func:`practice_minutes` (a set cost per
question, like a check's: not fitted, the walk had no practice).

**The model**: ``minutes = words / WPM + EXPLORER * explorers + CHECK * checks +
TABLE * tables + FORMULA * formulas + FIGURE * figures``, fitted to a newcomer's measured
walk (tests/data/newcomer_walk.json; see tests/test_newcomer_model.py for the fit).
"""

from __future__ import annotations

import re

#: The model (minutes), fitted to the walk of issue 26 (tests/test_newcomer_model.py):
#: the reading speed is fitted, the other costs are set (a newcomer's explorer with its
#: "Try:" prompts about 4 minutes, a check 2, as issue 26 proposes; a table, a display
#: formula and a figure about a minute, half, a minute).
WPM = 60.0              # words a minute: technical prose read closely by a newcomer
EXPLORER = 4.0          # an explorer: work its controls, do its "Try:" prompts
CHECK = 2.0             # a check question: think, answer, read the feedback
TABLE = 1.0             # a table read cell by cell
FORMULA = 0.5           # a display formula
FIGURE = 1.0            # a static figure read with its caption
#: A practice question: read its numbers, work the answer out, type it, read the feedback
#: (a check question, 2 minutes, only chooses; a practice question computes). Not in MODEL.
PRACTICE_QUESTION = 3.0
MODEL = {"words": 1 / WPM, "explorers": EXPLORER, "checks": CHECK, "tables": TABLE,
         "formulas": FORMULA, "figures": FIGURE}

#: Budgets (issue 26, item 2).
STORY_MAX = 20.0        # minutes of story per lesson
COURSE_STORY_MAX = 150  # minutes of story, all lessons
#: A lesson's top line may differ from the model by this much (minutes): the larger of
#: 3 minutes and a quarter of the model's time (a newcomer's pace varies about that much
#: between lessons around the fitted line: see the fit's residuals).
TOLERANCE_MIN, TOLERANCE_SHARE = 3.0, 0.25


def tolerance(model_minutes: float) -> float:
    return max(TOLERANCE_MIN, TOLERANCE_SHARE * model_minutes)


def practice_minutes(questions: int) -> float:
    """A lesson's practice time (minutes), apart from its story: ``questions`` at
    :data:`PRACTICE_QUESTION` each.

    >>> practice_minutes(4)
    12.0
    """
    return PRACTICE_QUESTION * questions


def minutes(features: dict, model: dict = MODEL) -> float:
    """The model's minutes for one layer's features."""
    return sum(model[k] * features.get(k, 0) for k in model)


#: Measures a rendered lesson page: features per layer ({story, depth}), the text of the
#: story (for the lint), the folds' summaries, the practice widgets.
FEATURES_JS = r"""() => {
  const root = document.getElementById('rendered_cells') || document.body;
  const folds = [...root.querySelectorAll('details.tk-fold')];
  const wasOpen = folds.map(d => d.open);
  folds.forEach(d => { d.open = true; });        // measure the depth as a reader who opens it
  const layer = e => e.closest('details.tk-fold > .tk-fold-body') ? 'depth' : 'story';
  const empty = () => ({words: 0, panel_words: 0, explorers: 0, checks: 0, tables: 0, formulas: 0, figures: 0, practice: 0});
  const out = {story: empty(), depth: empty()};
  const texts = {story: [], depth: []};
  const words = t => (t.match(/[A-Za-z\u00C0-\u024F]{2,}/g) || []).length;
  const SKIP = 'script, style, math, mjx-container, .tk-visually-hidden, .tk-term-def, [aria-hidden=true]';
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.data.trim() || !el || el.closest(SKIP) || !el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    const l = layer(el);
    texts[l].push(n.data);
    if (el.closest('.tk-practice')) continue;            // practice: timed on its own
    out[l].words += words(n.data);
    if (el.closest('.tk-panel')) out[l].panel_words += words(n.data);
  }
  for (const p of root.querySelectorAll('.tk-panel')) {
    if (p.parentElement.closest('.tk-panel')) continue;
    const l = layer(p);
    if (p.classList.contains('tk-check')) out[l].checks += 1;
    else if (p.classList.contains('tk-practice')) out[l].practice += 1;
    else out[l].explorers += 1;
  }
  const outside = e => !e.closest('.tk-panel') && e.checkVisibility();
  for (const t of root.querySelectorAll('table')) if (outside(t)) out[layer(t)].tables += 1;
  for (const m of root.querySelectorAll('math[display=block], mjx-container[display=true]'))
    if (outside(m)) out[layer(m)].formulas += 1;
  for (const f of root.querySelectorAll('.tk-figure')) if (outside(f)) out[layer(f)].figures += 1;
  const summaries = folds.map(d => d.querySelector('summary').innerText.trim());
  folds.forEach((d, i) => { d.open = wasOpen[i]; });
  return {features: out, story_text: texts.story.join(' '), depth_text: texts.depth.join(' '),
          summaries, folds: folds.length};
}"""


# --------------------------------------------------------------------------------------
# The story lint (issue 26, item 1): no library name, no R/rpact name, no formula in code
# --------------------------------------------------------------------------------------

#: R (survival) and rpact/gsDesign function and argument names a lesson's depth may cite.
R_NAMES = ("survfit", "survdiff", "coxph", "cox.zph", "Surv(", "getDesignGroupSequential",
           "getAnalysisResults", "getSampleSizeSurvival", "getPowerSurvival", "getDataset",
           "getStageResults", "getDesignCharacteristics", "getSimulationSurvival",
           "typeOfComputation", "typeOfDesign", "typeBetaSpending", "bindingFutility",
           "informationRates", "userAlphaSpending", "gsDesign(", "nSurv", "sfLDOF", "sfHSD",
           "sfPower", "conf.type", "conf.int")
#: Python and library names.
CODE_NAMES = (r"\btk\.", r"\bteachkit\.", r"\bnp\.", r"\bscipy\b", r"\bnumpy\b", r"\bipywidgets\b",
              r"\bmatplotlib\b", r"\bpandas\b", r"\bimport\b", r"\bdef\b", r"\blambda\b", r"\bprint\(")
#: Formulas written as code (not as mathematics).
#: (``log(HR)`` and ``exp(x)`` in prose are ordinary mathematics, not code: not listed.)
CODE_FORMULAS = (r"Phi\^-1", r"Phi\(", r"\*\*", r"\bsqrt\(", r"\w\^\(?-?\d", r"\w_\{")

STORY_LINT = [(re.escape(n), f"R/rpact name {n!r}") for n in R_NAMES] + \
             [(p, f"library or code name /{p}/") for p in CODE_NAMES] + \
             [(p, f"formula in code text /{p}/") for p in CODE_FORMULAS]
#: Text a lint hit may sit in and still be fine: none today.
LINT_ALLOWED: tuple = ()


def story_lint(text: str) -> list[str]:
    """What a story text must not hold: each finding with its context.

    >>> story_lint("The trial planned 131 events.")
    []
    >>> story_lint("computed by tk.design.events_required, as R's survfit")[0][:40]
    "R/rpact name 'survfit': ...esign.events_"
    """
    found = []
    for pattern, what in STORY_LINT:
        for m in re.finditer(pattern, text):
            context = text[max(0, m.start() - 30):m.end() + 30].replace("\n", " ")
            if not any(a in context for a in LINT_ALLOWED):
                found.append(f"{what}: ...{context}...")
    return found


# --------------------------------------------------------------------------------------
# What a lesson says about its time
# --------------------------------------------------------------------------------------

NUMBER_WORDS = {"five": 5, "ten": 10, "twelve": 12, "fifteen": 15, "eighteen": 18, "twenty": 20,
                "twenty-five": 25, "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60}
_N = r"(\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
#: ``⏱ **About 18 minutes** (the story) · folded parts for the statistician: about 12
#: minutes more, optional.`` (rendered: the bold is gone)
TOP_LINE = re.compile(r"About " + _N + r" minutes?\s*\(the story\)(?:.{0,80}?folded parts[^:]*:\s*about "
                      + _N + r" minutes? more)?", re.I | re.S)
#: ``(optional, about 6 min)`` at the end of a fold's summary.
FOLD_TIME = re.compile(r"\(optional, about " + _N + r" min(?:utes)?\)\s*$", re.I)


#: ``## Practice (optional, about 12 min)``: the practice section's heading.
PRACTICE_TIME = re.compile(r"^#*\s*Practice\b.*?\(optional, about " + _N + r" min(?:utes)?\)", re.I)


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word.lower()]


def stated_times(story_text: str):
    """(story minutes, depth minutes or None) from a lesson's top line, or None.

    >>> stated_times("⏱ About 18 minutes (the story) · folded parts for the statistician: "
    ...              "about 12 minutes more, optional.")
    (18, 12)
    >>> stated_times("About twenty minutes (the story).")
    (20, None)
    """
    m = TOP_LINE.search(story_text)
    if not m:
        return None
    return _number(m.group(1)), (_number(m.group(2)) if m.group(2) else None)


def practice_time(heading: str):
    """The minutes a practice heading states, or None.

    >>> practice_time("## Practice (optional, about 12 min)")
    12
    >>> practice_time("## Practice") is None
    True
    """
    m = PRACTICE_TIME.search(heading.strip())
    return _number(m.group(1)) if m else None


def fold_minutes(summary: str):
    """The minutes a fold's summary states, or None.

    >>> fold_minutes("For the statistician: why 131 events? (optional, about 6 min)")
    6
    """
    m = FOLD_TIME.search(summary.strip())
    return _number(m.group(1)) if m else None
