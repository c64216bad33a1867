"""Accessibility of the widgets that can be checked without a browser: text alternatives
built from the numbers, contrast of the feedback colours, hostile alt text, ARIA values."""

from __future__ import annotations

import re

import pytest

from teachkit import explorers
from teachkit.explorers import _a11y
from teachkit.explorers._base import _decimal, _plain


def _luminance(hex_colour):
    """WCAG 2.1 relative luminance of an sRGB colour '#RRGGBB'."""
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a, b="#FFFFFF"):
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula_matches_known_values():
    # WCAG examples: black on white 21:1, #767676 on white is the 4.54:1 grey
    assert contrast("#000000") == pytest.approx(21.0)
    assert contrast("#767676") == pytest.approx(4.54, abs=0.01)
    # the old check-yourself colours failed (the issue measured 3.4 and 3.9)
    assert contrast("#009E73") == pytest.approx(3.4, abs=0.1)
    assert contrast("#D55E00") == pytest.approx(3.9, abs=0.1)


@pytest.mark.parametrize("name", ["right", "wrong", "error", "text"])
def test_text_colours_meet_aa(name):
    assert contrast(_a11y.COLORS[name]) >= 4.5


def test_ui_colours_of_the_stylesheet_meet_3_to_1():
    # slider track border, handle border, focus ring (WCAG 1.4.11)
    for colour in ("#767676", "#595959", "#1A5FB4"):
        assert colour in _a11y.FRONTEND
        assert contrast(colour) >= 3.0


def test_interim_description_has_the_committees_numbers():
    ex = explorers.InterimMonitor(**explorers.june_2019_interim())
    r = ex.result
    text = ex.describe()
    rep = r.report
    for number in (f"Z = {rep.z:.2f}", f"{rep.z_efficacy:.2f}", f"{rep.z_futility:.2f}",
                   f"{rep.conditional_power_design:.2f}", f"{rep.conditional_power_trend:.2f}",
                   f"{rep.conditional_power_null:.2f}", "efficacy: not met"):
        assert number in text, number
    assert text.startswith("Interim look at 80 of 131 events")


def test_km_description_reads_the_current_row():
    ex = explorers.KaplanMeierBuilder(step=1)
    fit = ex.result.fit
    text = ex.describe()
    assert "row 1 of" in text and f"S(t) = {fit.survival[0]:.3f}" in text
    assert f"{fit.ci_lower[0]:.3f} to {fit.ci_upper[0]:.3f}" in text
    ex.update(step=3)
    assert "row 3 of" in ex.describe() and f"S(t) = {fit.survival[2]:.3f}" in ex.describe()


@pytest.mark.parametrize("cls", explorers.ALL, ids=lambda c: c.__name__)
def test_every_explorer_describes_its_picture_and_updates_it(cls):
    extra = {"n_trials": 500} if cls is explorers.TrialReplayer else {}
    ex = cls(**extra)
    ex.widget
    first = ex._alt.value
    assert len(first) > 60 and re.search(r"\d", first)
    assert "<" not in first  # escaped text, no markup
    params = {**cls.example_params()[1], **extra}
    ex.update(**params)
    assert ex._alt.value != first or ex.describe() == _plain(first)


def test_hostile_alt_text_is_escaped():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1))
    out = _a11y.figure_html(fig, alt='x" onerror="alert(1)<script>')
    assert 'onerror="alert(1)' not in out
    assert "&quot; onerror=&quot;alert(1)&lt;script&gt;" in out
    with pytest.raises(TypeError, match="fig"):
        _a11y.figure_html("not a figure", alt="a")
    with pytest.raises(ValueError, match="alt"):
        _a11y.figure_html(fig, alt=None)


def test_slider_classes_carry_the_real_range_in_plain_decimals():
    p = explorers.InterimMonitor.PARAMS[3]
    control = p.make_control()
    classes = set(control._dom_classes)
    assert f"tk-min_{_decimal(p.min)}" in classes and f"tk-max_{_decimal(p.max)}" in classes
    assert all("e" not in c.split("_", 1)[1] for c in classes if c.startswith(("tk-min_", "tk-max_")))


def test_check_yourself_is_a_named_group_with_a_live_feedback():
    q = explorers.CheckYourself("Which?", ["a", "b"], answer="a")
    box = q.widget
    assert "tk-check" in box._dom_classes
    assert "tk-question" in box.children[0]._dom_classes
    assert "tk-live" in q._feedback._dom_classes


def test_check_yourself_judges_only_when_asked():
    """Issue 26, item 8: moving through the options says nothing; "Check" judges the choice;
    another choice clears the verdict; "Check" with nothing chosen says what to do."""
    q = explorers.CheckYourself("Which?", ["a", "b", "c"], answer="b", right="yes", wrong="no")
    q.widget
    q._check.click()
    assert q.CHOOSE_FIRST in q._feedback.value
    for option in ("a", "c", "b", "a"):          # the arrow keys passing over the options
        q._buttons.value = option
        assert "Not quite" not in q._feedback.value and "Right" not in q._feedback.value
    q._check.click()
    assert "Not quite" in q._feedback.value
    q._buttons.value = "b"
    assert q._feedback.value == ""
    q._check.click()
    assert "Right" in q._feedback.value
    assert "tk-check-button" in q._check._dom_classes and q._check.description == "Check"
