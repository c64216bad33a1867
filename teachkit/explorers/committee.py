"""The committee room (lesson 06): the learner sits on AALL1331's data and safety
monitoring committee at the June 2019 look, reads the monitoring report, turns over the
other evidence one card at a time, records a recommendation, and only then sees what
the committee recommended and what that choice cost.

The evidence itself (the cards, the monitoring report, the final analysis and the
feedback, all without widgets) is in :mod:`teachkit.explorers.committee_evidence`; its
names are re-exported here for the lesson.
"""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass

import numpy as np

from teachkit import plots
from teachkit.explorers._a11y import panel
from teachkit.explorers._base import Explorer, Param, _short_message
from teachkit.explorers.check import CheckYourself
from teachkit.explorers.committee_evidence import (  # noqa: F401  (re-exported: lesson 06, tests)
    RECOMMENDATIONS, RECOMMENDATION_LABELS, EVIDENCE, EVIDENCE_LABELS,
    COMMITTEE_CITED, STAGES, N_CARDS, _SOURCE_CLOSURE,
    _fact, _table2_row, paper_date, _p,
    EvidenceCard, evidence_cards, june_2019_report, final_dfs_events,
    final_analysis, single_look_at_80, conditional_power_readings, _recommendation_feedback,
    _evidence_feedback, Reveal, CommitteeResult, reconstruction_note,
    _stage, _costs_text, _costs_story, _costs_depth, estimate_agreement_text)


# --------------------------------------------------------------------------------------
# The explorer
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _RadioParam(Param):
    """A choice shown as a radio group (the group label is ``label``)."""

    def make_control(self):
        import ipywidgets as W

        control = W.RadioButtons(options=list(zip(self.option_labels, self.options)),
                                 value=self.default, description=self.label,
                                 style={"description_width": "initial"},
                                 layout=W.Layout(width="auto"))
        control.add_class("tk-radiogroup")
        return control


class CommitteeRoom(Explorer):
    """Sit on AALL1331's data and safety monitoring committee at the June 2019 look.

    The learner reads the DFS monitoring report (boundaries, Z, B-value, three conditional
    powers and the predictive power, with how a committee reads each), turns over four
    evidence cards one at a time (overall survival, MRD clearance, serious toxicity and
    toxic deaths, transplant rates; each with its standing, what could be known then and
    what was published at the final analysis), chooses a recommendation and ticks the
    evidence that moved them, and records it.  Only then does the room reveal what the
    committee recommended and why (Results, Early Closure of Randomization; Discussion)
    and what the choice costs: the final analysis as a two-look trial, stage-wise P and
    median-unbiased HR (:func:`final_analysis`).

    Parameters are the learner's choices (``recommendation``, ``moved_<evidence>``); the
    room's state is ``cards_shown`` (0-4) and ``recorded``, moved by the "Next card",
    "Record my decision" and "Start again" buttons.  A decision cannot be recorded before
    all cards are seen and a recommendation is chosen (``ValueError``).

    >>> room = CommitteeRoom()
    >>> room.result.stage, room.result.reveal is None
    ('report', True)
    >>> r = room.update(cards_shown=4, recommendation="close_randomization", moved_os=True,
    ...                 recorded=True)
    >>> r.stage, r.reveal.agrees
    ('reveal', True)
    """

    title = "The committee room: AALL1331 at the June 2019 look"
    FIGSIZE = (10.0, 6.6)
    PARAMS = (
        _RadioParam("recommendation", "Your recommendation", "choice", None,
                    options=RECOMMENDATIONS, option_labels=RECOMMENDATION_LABELS, optional=True),
    ) + tuple(Param(f"moved_{k}", EVIDENCE_LABELS[k], "bool", False,
                    help=f"tick if {EVIDENCE_LABELS[k].lower()} moved your recommendation")
              for k in EVIDENCE)
    #: The room's state, moved by buttons rather than by a control of its own.
    STATE = (
        Param("cards_shown", "Evidence cards shown", "int", 0, min=0, max=N_CARDS),
        Param("recorded", "Decision recorded", "bool", False),
    )

    def __init__(self, **params):
        super().__init__(**params)
        self._params_by_name.update({p.name: p for p in self.STATE})

    # ---- parameters and state -----------------------------------------------------------
    @classmethod
    def defaults(cls) -> dict:
        return {p.name: p.default for p in cls.PARAMS + cls.STATE}

    def validate(self, params: dict) -> dict:
        known = {p.name: p for p in self.PARAMS + self.STATE}
        out = {}
        for name, value in params.items():
            if name not in known:
                raise ValueError(f"unknown parameter {name!r} for {type(self).__name__}; "
                                 f"known: {', '.join(known)}")
            out[name] = known[name].validate(value)
        self._check_together(out)
        return out

    def _check_together(self, params):
        if params.get("recorded"):
            if params.get("cards_shown", 0) < N_CARDS:
                raise ValueError(f"cards_shown is {params.get('cards_shown', 0)}: see all "
                                 f"{N_CARDS} evidence cards before recording a decision")
            if params.get("recommendation") is None:
                raise ValueError("recommendation: choose a recommendation before recording it")

    @classmethod
    def example_params(cls):
        return [dict(), dict(cards_shown=1), dict(cards_shown=2), dict(cards_shown=4),
                dict(recommendation="continue", moved_dfs=True),
                dict(recorded=True),
                dict(recorded=False, recommendation="stop_efficacy", moved_mrd=True),
                dict(recorded=True),
                dict(recorded=False, recommendation="close_randomization", moved_os=True,
                     moved_toxicity=True, moved_transplant=True),
                dict(recorded=True),
                dict(recorded=False, recommendation="modify", moved_dfs=False),
                dict(recorded=True)]

    # ---- compute ------------------------------------------------------------------------
    def compute(self, **params):
        p = self._full_params(params)
        report = june_2019_report()
        readings = conditional_power_readings(report)
        cards = evidence_cards()
        n = p["cards_shown"]
        choice = p["recommendation"]
        ticked = tuple(k for k in EVIDENCE if p[f"moved_{k}"])
        stage = _stage(n, p["recorded"])
        if n < N_CARDS:
            hint = f"See all {N_CARDS} evidence cards first: {n} of {N_CARDS} seen."
        elif choice is None:
            hint = "Choose a recommendation, tick what moved you, then record it."
        else:
            hint = "Ready: press 'Record my decision'."
        can_record = n == N_CARDS and choice is not None and not p["recorded"]
        reveal = self._reveal(choice, ticked, report, cards) if p["recorded"] else None
        summary = self._summary(stage, report, cards, n, reveal)
        alt = self._alt_text(report, readings, cards, n, choice, reveal)
        return CommitteeResult(stage, report, readings, reconstruction_note(report), cards, n,
                               choice, ticked, can_record, hint, reveal, summary, alt)

    @staticmethod
    def _reveal(choice, ticked, report, cards) -> Reveal:
        final = final_analysis()
        single = single_look_at_80()
        agrees, feedback = _recommendation_feedback(choice, report, final, single)
        ev = tuple((k, k in ticked, k in COMMITTEE_CITED, _evidence_feedback(k, k in ticked))
                   for k in EVIDENCE)
        hit = [k for k in ticked if k in COMMITTEE_CITED]
        extra = [k for k in ticked if k not in COMMITTEE_CITED]
        summary = (f"You ticked {len(hit)} of the {len(COMMITTEE_CITED)} kinds of evidence the "
                   "committee cited" + (f", and also {', '.join(EVIDENCE_LABELS[k].lower() for k in extra)}, "
                                        "which it did not cite" if extra else "") + ".")
        hr_i = report.hazard_ratio
        alpha = final.design.alpha
        d_final = int(final.events[-1])
        pub = _fact("results.dfs_hazard_ratio")
        committee = (
            f"In {paper_date(_fact('interim.dsmc_review'))}, reviewing data to "
            f"{paper_date(_fact('interim.data_cutoff'))} ({report.events:g} of "
            f"{report.events_planned:g} planned events), the committee recommended halting the "
            "randomization. The DFS efficacy rule was not met (P = "
            f"{_p(report.p_one_sided)}, critical P = {_p(_fact('interim.p_critical'))}); 'the "
            "combination of higher disease-free survival and overall survival, lower rates of "
            "serious toxicity, and higher rates of MRD clearance' led it to recommend closure 'due "
            f"to loss of clinical equipoise' ({_SOURCE_CLOSURE}). The recommendation 'was based not "
            "on the triggering of the predefined disease-free survival-based or adverse event-based "
            "stopping rule, but rather on a combined assessment' of DFS, OS, MRD and adverse events, "
            "'all of which favored blinatumomab' (Discussion). Follow-up continued to "
            f"{paper_date(_fact('design.follow_up_cutoff'))}.")
        costs = _costs_text(report, final)
        context = (
            "Blinatumomab had accelerated approval for MRD-positive B-ALL, conditional on "
            "confirmatory trials, and AALL1331 was one of them (Introduction): future patients and "
            "regulators needed a definitive answer. A committee owes a duty to the patients in the "
            "trial now (not to randomize them to a treatment it believes worse) and to future "
            "patients (a reliable answer). Stopping boundaries are guidelines for that judgement, "
            "not rules that decide it: the committee weighs the whole picture, as its charter "
            "lets it (Methods, Trial Oversight), and recommends; the sponsor decides.")
        label = RECOMMENDATION_LABELS[RECOMMENDATIONS.index(choice)]
        return Reveal(choice, label, agrees, feedback, ev, summary, committee, costs, context, final,
                      _costs_story(report), _costs_depth(report, final))

    @staticmethod
    def _summary(stage, report, cards, n, reveal) -> str:
        rule = (f"DFS efficacy not met (Z = {report.z:.2f} < {report.z_efficacy:.2f}), futility not "
                f"met (Z = {report.z:.2f} >= {report.z_futility:.2f})")
        if stage == "report":
            return f"Monitoring report: {rule}. 0 of {N_CARDS} evidence cards shown."
        if stage == "cards":
            c = cards[n - 1]
            return f"Card {n} of {N_CARDS}: {c.title} ({c.standing})."
        if stage == "decision":
            return "All cards seen: choose a recommendation, tick what moved you, and record it."
        same = "the same" if reveal.agrees else "something else: to close randomization for loss of equipoise"
        return f"Recorded: {reveal.recommendation_label}. The committee recommended {same}."

    @staticmethod
    def _alt_text(report, readings, cards, n, choice, reveal) -> str:
        d = report.design
        looks = ", ".join(f"{t:.2f}" for t in d.information_fractions)
        parts = [
            f"Committee room at the June 2019 look, {report.events:g} of {report.events_planned:g} "
            f"events (information fraction {report.information_fraction:.2f}).",
            f"Left panel: DFS log-rank Z = {report.z:.2f} (one-sided P = {report.p_one_sided:.3f}) "
            f"below the efficacy boundary {report.z_efficacy:.2f} (P <= {report.p_efficacy:.4f}) and "
            f"above the futility boundary {report.z_futility:.2f}; boundaries drawn at information "
            f"fractions {looks} (reconstructed look plan), final boundary {float(d.z_efficacy[-1]):.2f}; "
            "dashed paths show where Z goes on average under the design effect, the current trend "
            "and no effect.",
            "Right panel, chance that DFS ends significant: " + "; ".join(
                f"{name} {value:.2f} ({assumption})" for name, value, assumption, _ in readings) + ".",
        ]
        shown = [f"{c.title} ({c.standing}): " + " ".join(c.figure_lines) for c in cards[:n]]
        parts.append(f"Evidence cards, {n} of {N_CARDS} turned over"
                     + (": " + "; ".join(shown) if shown else "") + "."
                     + (f" {N_CARDS - n} face down." if n < N_CARDS else ""))
        if reveal is None:
            parts.append("Decision: " + ("chosen, not recorded." if choice else "not recorded."))
        else:
            parts.append(f"Decision recorded: {reveal.recommendation_label}. Committee, "
                         f"{paper_date(_fact('interim.dsmc_review'))}: close randomization for loss of "
                         "equipoise, no stopping rule met.")
        return " ".join(parts)

    # ---- figure -------------------------------------------------------------------------
    def _setup(self, fig):
        colours = plots.OKABE_ITO
        rep = june_2019_report()
        d = rep.design
        t = rep.information_fraction
        fig.suptitle(f"The committee room: AALL1331, data to {paper_date(_fact('interim.data_cutoff'))}, "
                     f"reviewed {paper_date(_fact('interim.dsmc_review'))}", x=0.01, ha="left",
                     fontsize=13, fontweight="bold")
        # DFS report: boundaries, Z, where Z may go
        ax = fig.add_axes((0.07, 0.55, 0.40, 0.33))
        tt = d.information_fractions
        ax.plot(tt, d.z_efficacy, "-o", color=colours["vermillion"], ms=4, lw=1.5,
                label="efficacy boundary")
        fin = np.isfinite(d.z_futility)
        ax.plot(tt[fin], d.z_futility[fin], "-s", color=colours["reddish_purple"], ms=4, lw=1.2,
                label="futility boundary")
        s = np.linspace(t, 1.0, 40)
        for name, drift, col in (("design effect", rep.drift_design, colours["blue"]),
                                 ("current trend", rep.b_value / t, colours["orange"]),
                                 ("no effect", 0.0, colours["sky_blue"])):
            ax.plot(s, (rep.b_value + drift * (s - t)) / np.sqrt(s), "--", color=col, lw=1.3,
                    label=f"mean path: {name}")
        ax.plot([t], [rep.z], "o", color=colours["black"], ms=7, zorder=5)
        ax.annotate(f"Z = {rep.z:.2f}\nP = {rep.p_one_sided:.3f}", (t, rep.z), xytext=(-58, 8),
                    textcoords="offset points", fontsize=8.5)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(-0.5, 4.2)
        ax.set_xlabel(f"Information fraction (events / {rep.events_planned:g})", fontsize=9)
        ax.set_ylabel("DFS log-rank Z", fontsize=9)
        ax.set_title(f"DFS at {rep.events:g} of {rep.events_planned:g} events: no rule met",
                     loc="left", fontsize=10.5)
        ax.legend(loc="lower left", fontsize=7, ncol=1, frameon=False)
        ax.text(0.99, 0.02, "looks at 1/3, 61%, 1: a reconstruction", transform=ax.transAxes,
                ha="right", fontsize=7, color="#555555")
        # the three conditional powers and the predictive power
        ax2 = fig.add_axes((0.70, 0.55, 0.27, 0.33))
        readings = conditional_power_readings(rep)
        y = np.arange(len(readings))[::-1]
        cols = (colours["blue"], colours["orange"], colours["sky_blue"], colours["bluish_green"])
        ax2.barh(y, [v for _, v, _, _ in readings], color=cols, height=0.6)
        for yi, (_, v, _, _) in zip(y, readings):
            ax2.text(v + 0.02, yi, f"{v:.2f}", va="center", fontsize=9)
        ax2.set_yticks(y, [f"{n}\n{a}" for n, _, a, _ in readings], fontsize=7.5)
        ax2.set_xlim(0, 1.0)
        ax2.set_xlabel(f"Chance DFS ends significant (final Z >= {float(d.z_efficacy[-1]):.2f})",
                       fontsize=8.5)
        ax2.set_title("Conditional and predictive power", loc="left", fontsize=10.5)
        # four evidence cards, face down until turned over
        self._cards = []
        width, gap, left = 0.235, 0.012, 0.02
        for i in range(N_CARDS):
            cax = fig.add_axes((left + i * (width + gap), 0.12, width, 0.31))
            cax.set_axis_off()
            cax.set_xlim(0, 1)
            cax.set_ylim(0, 1)
            box = self._dyn(cax.add_patch(_card_face()))
            head = self._dyn(cax.text(0.05, 0.9, "", fontsize=9.5, fontweight="bold", va="top"))
            tag = self._dyn(cax.text(0.05, 0.74, "", fontsize=8, va="top", style="italic"))
            body = self._dyn(cax.text(0.05, 0.6, "", fontsize=8.2, va="top", linespacing=1.4))
            cited = self._dyn(cax.text(0.05, 0.07, "", fontsize=8.2, fontweight="bold"))
            self._cards.append((box, head, tag, body, cited))
        # the final analysis, shown with the reveal (re-cut at the looks actually taken)
        final = final_analysis()
        t_final = float(final.events[-1]) / rep.events_planned
        self._final_marks = [
            self._dyn(ax.plot([t_final], [float(final.z[-1])], "D", color=colours["black"],
                              ms=6, zorder=5)[0]),
            self._dyn(ax.plot([t_final], [float(final.design.z_efficacy[-1])], "_",
                              color=colours["vermillion"], ms=14, mew=2.5, zorder=5)[0]),
            self._dyn(ax.text(t_final, 2.95, 
                              f"final {final.events[-1]:g} events:\nZ = {float(final.z[-1]):.2f}"
                              f" < {float(final.design.z_efficacy[-1]):.2f}\n(reconstruction)",
                              fontsize=7.5, ha="center", va="bottom")),
        ]
        self._decision = self._dyn(fig.text(0.02, 0.035, "", fontsize=9.5, va="center"))

    def _draw(self, r):
        revealed = r.reveal is not None
        for mark in self._final_marks:
            mark.set_visible(revealed)
        for i, (box, head, tag, body, cited) in enumerate(self._cards):
            cited.set_text("")
            if i < r.cards_shown:
                c = r.cards[i]
                box.set_facecolor("#FFFFFF")
                box.set_edgecolor("#555555")
                head.set_text(c.title)
                tag.set_text(f"standing: {c.standing}")
                body.set_text("\n".join(c.figure_lines))
                if revealed:  # what the committee cited is part of the reveal
                    box.set_edgecolor(plots.OKABE_ITO["blue"] if c.cited_by_committee else "#999999")
                    cited.set_text("cited by the committee" if c.cited_by_committee
                                   else "not cited by the committee")
                    cited.set_color(plots.OKABE_ITO["blue"] if c.cited_by_committee else "#555555")
            else:
                box.set_facecolor("#D9D9D9")
                box.set_edgecolor("#777777")
                head.set_text(f"Card {i + 1} of {N_CARDS}")
                tag.set_text("face down")
                body.set_text("press 'Next card'" if i == r.cards_shown else "")
        if r.reveal is None:
            text = "Your recommendation: " + ("chosen, not yet recorded" if r.recommendation
                                              else "not chosen yet") + f". {r.record_hint}"
        else:
            text = (f"You: {r.reveal.recommendation_label}\nCommittee "
                    f"({paper_date(_fact('interim.dsmc_review'))}): close randomization, loss of "
                    "equipoise; no stopping rule met")
        self._decision.set_text(text)

    # ---- widget -------------------------------------------------------------------------
    def _build_widget(self):
        import ipywidgets as W

        for p in self.PARAMS:
            control = p.make_control()
            control.observe(lambda ch, name=p.name: self._on_control(name, ch["new"]), names="value")
            self._controls[p.name] = control
        self._message = W.HTML(value="", layout=W.Layout(min_height="1.6em"))
        self._message.add_class("tk-live")
        self._image = W.Image(value=self.png, format="png",
                              layout=W.Layout(width="100%", max_width=f"{int(self.FIGSIZE[0] * 100)}px",
                                              height="auto"))
        # the picture's text alternative: hidden text the front end copies into its alt
        # (teachkit.explorers._a11y); an Image's tooltip would stop ipywidgets 8.1 drawing it
        self._alt = W.HTML(html.escape(self.describe(self.result)) if self.result is not None else "")
        self._alt.add_class("tk-alt")
        self._alt.add_class("tk-visually-hidden")
        figure = W.Box([self._image, self._alt], layout=W.Layout(width="100%"))
        figure.add_class("tk-figure")
        self._figure_text = W.HTML()
        self._report_html = W.HTML(self._report_view(self.result))
        self._cards_html = W.HTML()
        self._reveal_html = W.HTML()
        self._next_button = W.Button(description="Next card", icon="arrow-right",
                                     tooltip="turn over the next evidence card")
        self._next_button.on_click(lambda _b: self._step(cards_shown=self.params["cards_shown"] + 1))
        self._record_button = W.Button(description="Record my decision", icon="check",
                                       button_style="primary",
                                       tooltip="record your recommendation; then the page shows "
                                               "what the committee did")
        self._record_button.on_click(lambda _b: self._step(recorded=True))
        self._restart_button = W.Button(description="Start again", icon="undo",
                                        tooltip="put the cards back and clear your decision")
        self._restart_button.on_click(lambda _b: self._step(**self.defaults()))
        header = W.HTML(f"<h3 style='margin:0.2em 0'>{html.escape(self.title)}</h3>")
        radio = self._controls["recommendation"]
        ticks = [self._controls[f"moved_{k}"] for k in EVIDENCE]
        decision = W.VBox([W.HTML("<b>Your recommendation to the study chair</b>"), radio,
                           W.HTML("<b>Which evidence moved you?</b> (tick all that apply)"),
                           W.VBox(ticks), self._record_button])
        radio.add_class("tk-radiogroup")
        box = panel([header, self._report_html, figure, self._figure_text,
                     self._cards_html, self._next_button, decision, self._message,
                     self._reveal_html, self._restart_button])
        if self.result is not None:
            self._show_message(self._note(self.result))
            self._update_views(self.result)
        return box

    def _step(self, **changes):
        try:
            self.update(**changes)
        except (ValueError, TypeError) as exc:  # a button pressed out of turn: never a traceback
            self._show_message(f"Not yet: {_short_message(exc)}", error=True)

    def _note(self, r):
        return html.escape(r.summary)      # shown in the base's polite live region

    def code(self, params=None) -> str:
        """The June 2019 report (:func:`teachkit.sequential.interim_report`, written as the
        interim monitor writes it: :func:`~teachkit.explorers.interim.interim_report_code`)
        and, once the decision is recorded, the final analysis
        (:func:`teachkit.sequential.inference_after_stop` on the plan re-cut at the looks
        taken), the calls behind :meth:`teachkit.aall1331.MonitoringPlan.interim_report` and
        :meth:`~teachkit.aall1331.MonitoringPlan.final_analysis` with their arguments in view."""
        from teachkit import aall1331
        from teachkit.explorers.interim import interim_report_code, june_2019_interim

        p = self._full_params(self.params if params is None else params)
        j = june_2019_interim()
        out = interim_report_code(j["events"], j["events_planned"], p_one_sided=j["p_one_sided"],
                                  hazard_ratio_design=j["hazard_ratio_design"],
                                  futility_alpha=j["futility_alpha"], spending=j["spending"])
        if not p["recorded"]:
            return out
        plan = aall1331.monitoring_plan()
        d_plan, d_final, alpha = int(plan.events_planned), int(plan.final_events), plan.alpha
        hr = plan.facts["results.dfs_hazard_ratio"].value["estimate"]
        first = f"{d_plan} / {round(1 / plan.planned_fractions[0])}"
        why = textwrap.wrap(
            f"the final analysis at the looks taken ({first}, {j['events']} and {d_final} events): the "
            f"alpha the plan spent at the interims, the rest at {d_final}; Z from the published HR "
            f"{hr:g} (a reconstruction). As if the stopping rule had been followed: a sensitivity "
            "check.", 90)
        return out.replace("import teachkit", "import math\nimport teachkit", 1) + (
            "\n" + "".join(f"# {line}\n" for line in why) +
            f"events = [{first}, {j['events']}, {d_final}]\n"
            "spent = report.design.alpha_spent  # cumulative, by look\n"
            "design = tk.sequential.group_sequential_design(\n"
            f"    [e / {d_final} for e in events], alpha={alpha!r}, spending='user',\n"
            f"    parameter=[spent[0], spent[1], {alpha!r}])\n"
            f"z_final = -math.log({hr!r}) * math.sqrt({d_final} / 4)\n"
            "final = tk.sequential.inference_after_stop(design, [math.nan, report.z, z_final], events)\n"
            "print(final)\n"
            "print(tk.aall1331.monitoring_plan().thresholds_table())  # which final threshold is which\n")

    def describe(self, result=None) -> str:
        """The figure in words, with the current numbers (its text alternative)."""
        r = self.result if result is None else result
        return r.alt_text if r is not None else self.title

    def _update_views(self, r):
        recorded = r.reveal is not None
        self._figure_text.value = ("<details><summary>Figure description</summary>"
                                   f"<p>{html.escape(r.alt_text)}</p></details>")
        self._cards_html.value = self._cards_view(r)
        self._reveal_html.value = self._reveal_view(r.reveal) if recorded else ""
        self._next_button.disabled = r.cards_shown >= N_CARDS or recorded
        self._next_button.description = ("All cards seen" if r.cards_shown >= N_CARDS
                                          else f"Next card ({r.cards_shown + 1} of {N_CARDS})")
        self._record_button.disabled = not r.can_record
        for control in self._controls.values():
            control.disabled = recorded          # a recorded decision is locked
        self._restart_button.layout.display = None if recorded else "none"

    # ---- HTML views ------------------------------------------------------------------------
    @staticmethod
    def _report_view(r) -> str:
        if r is None:  # pragma: no cover - the room always has a result
            return ""
        rep = r.report
        # the story shows the report in words; the assumptions row is the plan's label, given
        # below in one clause and in full in the disclosure (issue 26: the story's time)
        rows = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td>"
                       f"<td>{html.escape(c)}</td></tr>" for a, b, c in rep.rows_in_words()
                       if a != "assumptions")
        reading = "".join(f"<li><b>{html.escape(n)} = {v:.2f}</b> ({html.escape(a)}): "
                          f"{html.escape(t)}</li>" for n, v, a, t in r.readings)
        return (f"<p><b>Monitoring report, disease-free survival (primary end point)</b></p>"
                f"<table><tr><th>quantity</th><th>value</th><th>what it means</th></tr>{rows}</table>"
                "<p><small>The looks' timing is our reconstruction: the paper does not give it "
                "(lesson 05).</small></p>"
                # the statistician's reading of the report: closed, opened by choice
                "<details class='tk-report-more'><summary>For the statistician: how a committee "
                "reads the conditional powers, and the reconstruction</summary>"
                f"<ul>{reading}</ul>"
                "<p>Conditional power tells a committee whether the trial can still answer its "
                "question (a futility argument); it is never a licence to stop for efficacy. Look "
                "at the spread across assumptions rather than at one number (Jennison &amp; "
                "Turnbull 2000, ch. 10).</p>"
                f"<p><small>{html.escape(r.reconstruction_note)}</small></p></details>")

    @staticmethod
    def _cards_view(r) -> str:
        out = []
        for c in r.cards[:r.cards_shown]:
            caveats = "".join(f"<li>{html.escape(x)}</li>" for x in c.caveats)
            out.append(
                f"<div style='border:1px solid #767676;padding:0.4em 0.8em;margin:0.4em 0'>"
                f"<p><b>{html.escape(c.title)}</b>, standing: <b>{html.escape(c.standing)}</b> "
                f"({html.escape(c.standing_source)})</p>"
                f"<p><b>What a committee could know then (June 2019):</b> {html.escape(c.then)}</p>"
                f"<p><b>Published at the final analysis:</b> {html.escape(c.published)}</p>"
                f"<ul>{caveats}</ul><p><small>Source: {html.escape(c.sources)}</small></p></div>")
        if r.cards_shown < N_CARDS:
            out.append(f"<p>{N_CARDS - r.cards_shown} card(s) still face down.</p>")
        return "".join(out)

    @staticmethod
    def _reveal_view(v) -> str:
        verdict = "the same as the committee" if v.agrees else "not what the committee recommended"
        ev = "".join(f"<li>{html.escape(text)}</li>" for _, _, _, text in v.evidence_feedback)
        f = v.final
        table = (f"<table><tr><th></th><th>adjusted (stage-wise), as if the rule had been followed</th>"
                 f"<th>naive</th></tr>"
                 f"<tr><td>one-sided P</td><td>{f.p_value:.4f}</td><td>{f.naive_p_value:.4f}</td></tr>"
                 f"<tr><td>hazard ratio</td><td>{f.hazard_ratio:.3f}</td><td>{f.naive_hazard_ratio:.3f}</td></tr>"
                 f"<tr><td>{100 * f.conf_level:g}% CI</td><td>{f.ci_lower:.3f}&ndash;{f.ci_upper:.3f}</td>"
                 f"<td>{f.naive_ci_lower:.3f}&ndash;{f.naive_ci_upper:.3f}</td></tr></table>")
        return (f"<h4>Your recommendation: {html.escape(v.recommendation_label)} ({verdict})</h4>"
                f"<p>{html.escape(v.feedback)}</p>"
                f"<h4>The evidence that moved you</h4><p>{html.escape(v.evidence_summary)}</p><ul>{ev}</ul>"
                f"<h4>What the committee recommended, and why</h4><p>{html.escape(v.committee)}</p>"
                f"<h4>What closing randomization cost, and what the final numbers can say</h4>"
                f"<p>{html.escape(v.costs_story)}</p>"
                # the statistician's part, closed: the estimates at the look and at the end, and
                # the final analysis as if the stopping rule had been followed (issue 25, 6 and 10)
                "<details class='tk-report-more'><summary>For the statistician: the estimates at "
                "the look and at the end, and the final analysis as if the stopping rule had been "
                f"followed</summary><p>{html.escape(v.costs_depth)}</p>{table}</details>"
                f"<h4>Context</h4><p>{html.escape(v.context)}</p>")


def _card_face():
    """The face of a card (a rectangle filling its axes)."""
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((0.01, 0.01), 0.98, 0.98, boxstyle="round,pad=0,rounding_size=0.04",
                          facecolor="#D9D9D9", edgecolor="#777777", linewidth=1.2)


# --------------------------------------------------------------------------------------
# The check question: a scenario that needs the learner's reasoning
# --------------------------------------------------------------------------------------

def committee_check() -> CheckYourself:
    """"If overall survival had pointed the other way": the lesson's check question.

    The numbers in the question come from the June 2019 report.

    >>> q = committee_check()
    >>> q.choose(q.answer), "equipoise" in q.feedback
    (True, True)
    """
    rep = june_2019_report()
    question = (f"Suppose the June 2019 look had been the same in every way (DFS Z = {rep.z:.2f} "
                f"against a boundary of {rep.z_efficacy:.2f}, MRD clearance and toxicity favouring "
                "blinatumomab) except that overall survival pointed the other way, with more deaths "
                "on blinatumomab. What should the committee most reasonably have recommended?")
    options = [
        "Stop for efficacy: DFS and MRD still favour blinatumomab",
        "Close randomization anyway: MRD clearance and less toxicity are enough",
        "Continue randomizing, looking closely at the deaths: equipoise is not lost",
        "Stop for futility: overall survival overrides the primary end point",
    ]
    right = ("The committee's case in 2019 was the totality: every signal favoured blinatumomab. "
             "With deaths going the other way the signals conflict, and a surrogate (MRD, "
             "exploratory, missing counted as positive) and fewer toxicities cannot outweigh more "
             f"deaths. DFS met no rule (Z = {rep.z:.2f} < {rep.z_efficacy:.2f}) and its conditional "
             f"power under the trend was about {rep.conditional_power_trend:.0%}: the DFS question is "
             "open. Whether equipoise is lost depends on all the evidence, and with deaths pointing the "
             "other way it is not. The committee would keep randomizing and look into the deaths "
             "(their causes, their timing, whether they follow relapse).")
    wrong = ("Ask what the committee's 2019 argument rested on. Efficacy: no boundary was crossed "
             f"(Z = {rep.z:.2f} < {rep.z_efficacy:.2f}), with or without OS. Closing randomization: "
             "the loss of equipoise came from all signals agreeing; MRD is an exploratory surrogate "
             "and cannot outweigh deaths. Futility: the futility boundary was not met either "
             f"(Z = {rep.z:.2f} >= {rep.z_futility:.2f}), and a secondary end point pointing the "
             "other way is a reason to look harder, not a rule that stops the trial.")
    return CheckYourself(question, options, answer=options[2], right=right, wrong=wrong)
