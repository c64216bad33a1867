"""The machinery every explorer shares: :class:`Param` (one description drives
validation *and* the control) and :class:`Explorer` (compute -> in-place update -> PNG ->
widget).  See :mod:`teachkit.explorers` for the contract an explorer follows.
"""

from __future__ import annotations

import asyncio
import html
import math
import re
import sys
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from teachkit import plots
from teachkit.explorers._a11y import COLORS, panel
from teachkit.explorers._ahead import MOVE_TIMINGS, Ahead, _params_key, _remember, _write_timing
from teachkit.explorers._png import _canvas_class, _encode_png

#: A menu whose label and longest choice together pass this many characters is laid out
#: with its label above it (class tk-wide-choice): side by side, the choice was cut.
WIDE_CHOICE = 52

#: Shown wherever the synthetic cohort appears.
SYNTHETIC_NOTE = "synthetic, calibrated to published summaries"


# --------------------------------------------------------------------------------------
# Parameters: one description drives validation *and* the control
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """One parameter of an explorer and the control that sets it.

    ``kind`` is ``"float"``, ``"int"``, ``"log"`` (a float on a log-scale slider),
    ``"choice"`` (one of ``options``), ``"bool"``, ``"seed"`` (a non-negative integer
    changed by a "new sample" button) or ``"indices"`` (a set of integers in
    ``[min, max]``, chosen in a multiple-selection list).  Validation and the control
    share ``min``/``max``/``options``, so a control cannot produce a value that
    :meth:`validate` rejects.
    """

    name: str
    label: str
    kind: str
    default: Any
    min: float | None = None
    max: float | None = None
    step: float | None = None
    options: tuple = ()
    option_labels: tuple = ()
    optional: bool = False  # None allowed (e.g. "MRD not measured")
    continuous: bool = True  # redraw while a slider is dragged
    help: str = ""

    def validate(self, value):
        """Return the value in canonical form or raise ``ValueError``/``TypeError`` naming it."""
        name = self.name
        if value is None:
            if self.optional:
                return None
            raise ValueError(f"{name} must not be None")
        if self.kind in ("float", "log"):
            if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
                raise ValueError(f"{name} must be a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value) or not (self.min <= value <= self.max):
                raise ValueError(f"{name} must be between {self.min:g} and {self.max:g}, got {value!r}")
            return value
        if self.kind in ("int", "seed"):
            if isinstance(value, bool) or not isinstance(value, (Integral, np.integer)):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            value = int(value)
            low = 0 if self.kind == "seed" else self.min
            high = 2**32 - 1 if self.kind == "seed" else self.max
            if not low <= value <= high:
                raise ValueError(f"{name} must be between {low} and {high}, got {value}")
            return value
        if self.kind == "choice":
            if value not in self.options:
                raise ValueError(f"{name} must be one of {self.options}, got {value!r}")
            return value
        if self.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {value!r}")
            return bool(value)
        if self.kind == "indices":
            try:
                items = tuple(sorted(set(value)))
            except TypeError:
                raise ValueError(f"{name} must be a collection of integers, got {value!r}") from None
            for i in items:
                if isinstance(i, bool) or not isinstance(i, (Integral, np.integer)) or not (
                        self.min <= i <= self.max):
                    raise ValueError(f"{name} must hold integers between {self.min} and "
                                     f"{self.max}, got {i!r}")
            return tuple(int(i) for i in items)
        raise ValueError(f"unknown parameter kind {self.kind!r} for {name}")  # pragma: no cover

    # ---- the control ------------------------------------------------------------------
    def make_control(self):
        """The ipywidgets control; a slider carries its real range as ``tk-min_*`` and
        ``tk-max_*`` classes (read by the front end for ``aria-valuemin/max``)."""
        control = self._make_control()
        if self.kind in ("float", "log", "int"):
            control.add_class(f"tk-min_{_decimal(self.min)}")
            control.add_class(f"tk-max_{_decimal(self.max)}")
            if self.kind == "log":
                control.add_class("tk-log")   # PageUp/PageDown step by tenths of the log scale
        return control

    def _make_control(self):
        import ipywidgets as W

        style = {"description_width": "initial"}
        # Fill the grid cell: with width "auto" a long label leaves the slider track no room.
        layout = W.Layout(width="100%", min_width="260px")
        common = dict(description=self.label, style=style, layout=layout,
                      tooltip=self.help or self.label)
        if self.kind == "float":
            return W.FloatSlider(value=self.default, min=self.min, max=self.max, step=self.step,
                                 continuous_update=self.continuous, readout_format=".3g", **common)
        if self.kind == "log":
            return W.FloatLogSlider(value=self.default, min=math.log10(self.min),
                                    max=math.log10(self.max), step=self.step or 0.05, base=10,
                                    continuous_update=self.continuous, readout_format=".3g",
                                    **common)
        if self.kind == "int":
            return W.IntSlider(value=self.default, min=self.min, max=self.max,
                               step=self.step or 1, continuous_update=self.continuous, **common)
        if self.kind == "choice":
            labels = self.option_labels or tuple(str(o) for o in self.options)
            menu = W.Dropdown(options=list(zip(labels, self.options)), value=self.default, **common)
            if max(len(label) for label in labels) + len(self.label) > WIDE_CHOICE:
                # its label above, the menu the whole width: a long choice is never cut
                menu.add_class("tk-wide-choice")
            return menu
        if self.kind == "bool":
            return W.Checkbox(value=self.default, indent=False, **common)
        if self.kind == "seed":
            return W.Button(description=self.label, tooltip=self.help or self.label,
                            icon="refresh", layout=W.Layout(width="auto"))
        if self.kind == "indices":
            labels = self.option_labels or tuple(str(i) for i in range(self.min, self.max + 1))
            from teachkit.explorers._controls import check_list_class

            return check_list_class()(options=list(zip(labels, range(self.min, self.max + 1))),
                                       value=tuple(self.default), description=self.label)
        raise ValueError(f"unknown parameter kind {self.kind!r}")  # pragma: no cover

    def control_value(self, value):
        """The value the control shows for a (valid) parameter value."""
        return tuple(value) if self.kind == "indices" else value

    def from_control(self, value):
        """The parameter value a control's value stands for.

        A browser's slider computes its values in binary floating point: a step from 0.60
        by 0.01 arrives as ``0.6099999999999999``, and a slider whose start is not exactly
        on its grid sends its start back (``0.5800000000000001``).  A float or log-scale
        slider's value is taken to 12 significant digits (inside ``[min, max]``), so the
        explorer computes, shows and prints 0.61 ("Show the code" included).

        >>> p = Param("hazard_ratio", "Hazard ratio", "float", 0.58, min=0.4, max=0.9, step=0.01)
        >>> p.from_control(0.6099999999999999), p.from_control(0.9000000000000001)
        (0.61, 0.9)
        """
        if self.kind not in ("float", "log") or isinstance(value, bool) or not isinstance(
                value, (Real, np.floating, np.integer)) or not math.isfinite(value):
            return value  # validate() says what is wrong with anything else
        return min(max(float(f"{float(value):.12g}"), self.min), self.max)


# --------------------------------------------------------------------------------------
# The base class
# --------------------------------------------------------------------------------------

#: Shown when a computation runs out of the memory a lesson kernel may use (the lessons
#: server gives each kernel an address-space limit: see teachkit._lessonserver).
OUT_OF_MEMORY = ("this lesson used all the memory it may use on the server; reload the page "
                 "to start it afresh")


def _short_message(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return OUT_OF_MEMORY
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if len(text) > 220:
        text = text[:217] + "..."
    return text


class Explorer(Ahead):
    """Base class: parameters, compute, in-place update, PNG view and widget."""

    #: Title shown above the controls.
    title: str = ""
    #: The parameters (and controls) of the explorer.
    PARAMS: tuple[Param, ...] = ()
    #: Figure size in inches (at 100 dpi).
    FIGSIZE: tuple[float, float] = (9.0, 5.5)
    #: Seconds of compute above which a progress bar is shown (TrialReplayer).
    PROGRESS_AFTER = 1.0
    #: Seconds between showing a move's first look and going on (see :meth:`compute_steps`).
    PAINT_PAUSE = 0.05
    #: Pictures of final results kept by their parameters: a control moved back, or onto a
    #: value drawn ahead, shows its picture without drawing it again.
    KEEP_PICTURES = 32
    def __init__(self, **params):
        self._params_by_name = {p.name: p for p in self.PARAMS}
        self.params = self.validate({**self.defaults(), **params})
        self.result = None
        self.error: str | None = None
        self.png: bytes = b""
        self._controls: dict = {}
        self._widget = None
        self._syncing = False
        self._animated: list = []
        self._backgrounds: OrderedDict = OrderedDict()  # layout key -> cached pixels
        self._results: OrderedDict = OrderedDict()      # parameters -> compute() result
        self._pictures: OrderedDict = OrderedDict()     # parameters -> PNG of the final result
        self._generation = 0                            # counts moves: a newer one wins
        self._keep_pictures = self.KEEP_PICTURES        # more while a slider's grid is kept
        with plots.style():
            self.figure = Figure(figsize=self.FIGSIZE, dpi=100)
            _canvas_class()(self.figure)
            self._setup(self.figure)
        self.update()

    # ---- parameters ---------------------------------------------------------------------
    @classmethod
    def defaults(cls) -> dict:
        return {p.name: p.default for p in cls.PARAMS}

    def validate(self, params: dict) -> dict:
        """Check every parameter (unknown names included); return the canonical dict."""
        known = {p.name: p for p in self.PARAMS}
        out = {}
        for name, value in params.items():
            if name not in known:
                raise ValueError(f"unknown parameter {name!r} for {type(self).__name__}; "
                                 f"known: {', '.join(known)}")
            out[name] = known[name].validate(value)
        self._check_together(out)
        return out

    def _check_together(self, params: dict) -> None:
        """Cross-parameter checks (subclasses); raise ValueError naming the parameter."""

    @classmethod
    def example_params(cls) -> list[dict]:
        """Parameter sets sweeping the controls (tests and benchmarks drive these)."""
        raise NotImplementedError

    # ---- compute and view (subclasses) ---------------------------------------------------
    def compute(self, **params):
        """Pure: the result for these parameters (missing ones take their defaults)."""
        raise NotImplementedError

    def compute_steps(self, **params):
        """``compute(**params)`` on the way: yields ``(result, final)`` pairs, the last one
        ``(compute(**params), True)``.  Here one step; an explorer whose compute is long
        (:class:`~teachkit.explorers.TrialReplayer`) yields a first, rougher result
        sooner.  When a control moves, the first result is shown at once and the final one
        when it comes; each yield in between is a point where the kernel may take a newer
        move, which abandons this one (:meth:`_on_control`).  Results between the first
        and the final one are not shown (they may be ``None``)."""
        yield self.compute(**params), True

    def _setup(self, fig) -> None:
        """Create the axes and artists once."""
        raise NotImplementedError

    def _draw(self, result) -> None:
        """Update the artists from a result (no new artists per move)."""
        raise NotImplementedError

    def _full_params(self, params: dict) -> dict:
        return self.validate({**self.defaults(), **params})

    # ---- drawing: a cached static background + the artists that move ---------------------
    def _dyn(self, artist):
        """Mark an artist as moving: redrawn on every update over a cached background."""
        artist.set_animated(True)
        self._animated.append(artist)
        return artist

    def _legend(self, ax, **kwargs):
        """A static legend (part of the cached background: placed where the moving
        artists rarely go, since they are drawn over the background)."""
        return ax.legend(**kwargs)

    def _layout_key(self):
        """Anything that changes the static part of the figure (axis limits, labels...).

        When it changes, the whole figure is drawn again and the background re-cached;
        otherwise only the moving artists are drawn (Agg blitting).
        """
        return None

    #: Backgrounds (one per layout key, about 2 MB each) and results kept per explorer.
    KEEP_BACKGROUNDS = 6
    KEEP_RESULTS = 16

    def _render(self) -> bytes:
        canvas = self.figure.canvas
        key = self._layout_key()
        background = self._backgrounds.get(key)
        if background is None:
            plots.fit_titles(self.figure, animated=False)   # a title never cut by the edge
            canvas.draw()  # everything but the moving artists
            _remember(self._backgrounds, key, canvas.copy_from_bbox(self.figure.bbox),
                      self.KEEP_BACKGROUNDS)
        else:
            # a layout seen before (a slider moved back): its static part is unchanged
            self._backgrounds.move_to_end(key)
            canvas.restore_region(background)
        renderer = canvas.get_renderer()
        plots.fit_titles(self.figure, animated=True)
        for artist in sorted(self._animated, key=lambda a: a.get_zorder()):
            if artist.get_visible():
                artist.draw(renderer)
        self._stamp("rendered")
        return _encode_png(canvas)

    def _prepare_backgrounds(self) -> None:
        """Draw ahead the backgrounds of layouts a learner is likely to reach (subclasses:
        with :meth:`_prepare_background`); called when the widget is built."""

    def _prepare_background(self, key, setup) -> None:
        """Draw and keep the background of layout ``key`` before any move needs it:
        ``setup()`` puts the figure's static part into that layout (the caller puts it back)."""
        if key in self._backgrounds:
            return
        setup()
        self.figure.canvas.draw()
        _remember(self._backgrounds, key, self.figure.canvas.copy_from_bbox(self.figure.bbox),
                  self.KEEP_BACKGROUNDS)
        self._backgrounds.move_to_end(self._layout_key())  # the one shown stays the newest

    def save_png(self, path) -> None:
        """Write the current picture (the same bytes the widget shows) to ``path``."""
        with open(path, "wb") as fh:
            fh.write(self.png)

    # ---- update -------------------------------------------------------------------------
    def update(self, **changes):
        """Apply parameter changes, recompute, redraw in place; return the result.

        Invalid values raise ``ValueError`` naming the parameter (nothing changes).
        If the computation itself fails, the explorer shows a short message, keeps
        its last picture, and ``update`` returns ``None``.
        """
        return self._apply(changes, progressive=False)

    def _apply(self, changes, progressive, params=None):
        """:meth:`update`; with ``progressive`` (a learner's move, in a kernel), show the
        first of :meth:`compute_steps` now and go on with the rest when the kernel is free,
        show a picture already made for these parameters instead of drawing it again, and
        draw ahead when idle (see :meth:`_on_control`).  ``params``: the validated
        parameters with ``changes`` applied, where the caller has them already."""
        if params is None:
            params = self.validate({**self.params, **changes})
        before = self.params
        self.params = params
        self._generation += 1
        self._sync_controls(changes)
        steps = self._steps(params)
        try:
            result, final = next(steps)
            while not (final or progressive):
                result, final = next(steps)
        except Exception as exc:  # shown to the learner as one readable line
            self._fail(exc)
            return None
        self._stamp("computed")
        if not self._present(result, final, reuse=progressive):
            return None
        grid = None
        if progressive and len(changes) == 1:
            (name,) = changes
            direction = self._direction(name, before[name], params[name])
            if not direction:
                pass
            elif self._step_from(name, before[name], direction) == params[name]:
                # a one-step move (a key press): the next is likely one step on
                if final and self.DRAW_AHEAD:
                    asyncio.get_running_loop().call_later(self.PAINT_PAUSE, self._draw_ahead, name,
                                                          direction, self._generation, True)
            elif self.GRID_MAX and self._params_by_name[name].kind in ("int", "float", "log"):
                # a jump (a click on the track): the next click may land anywhere on it
                grid = name
        if not final:
            # a short pause first: where the browser shares the machine's cores with the
            # kernel (a laptop), the first look is painted before the kernel goes on
            asyncio.get_running_loop().call_later(self.PAINT_PAUSE, self._go_on, steps,
                                                  self._generation, grid)
        elif grid is not None:
            asyncio.get_running_loop().call_later(self.PAINT_PAUSE, self._prepare_grid, grid,
                                                  self._generation, None)
        return result

    def _go_on(self, steps, generation, grid=None):
        """One more of :meth:`compute_steps` (called by the kernel's event loop between
        messages); the final result is shown (then, after a jump on the slider ``grid``, the
        rest of its track prepared: :meth:`_prepare_grid`), a newer move abandons this one."""
        if generation != self._generation:
            steps.close()
            return
        try:
            result, final = next(steps)
        except Exception as exc:
            self._fail(exc)
            return
        loop = asyncio.get_running_loop()
        if not final:
            loop.call_soon(self._go_on, steps, generation, grid)
        elif self._present(result, final=True, reuse=True) and grid is not None:
            loop.call_later(self.PAINT_PAUSE, self._prepare_grid, grid, generation, None)

    def _steps(self, params):
        """:meth:`compute_steps`, reusing the result of a recent identical call (compute is
        pure and results are frozen: a learner moving a slider back gets it at once)."""
        key = _params_key(params)
        result = self._results.get(key)
        if result is not None:
            self._results.move_to_end(key)
            yield result, True
            return
        for result, final in self.compute_steps(**params):
            if final:
                _remember(self._results, key, result, self.KEEP_RESULTS)
            yield result, final

    def final_result(self):
        """The final result for the current parameters: :attr:`result`, or, while a move's
        first look is still shown (see :meth:`compute_steps`), the result it is on its way to."""
        return self._compute_cached(self.params)

    def _compute_cached(self, params):
        """The final result of :meth:`_steps`."""
        for result, final in self._steps(params):
            if final:
                return result
        raise RuntimeError("compute_steps ended without a final result")  # pragma: no cover

    def _fail(self, exc: BaseException) -> None:
        self.error = _short_message(exc)
        self._show_message(f"Cannot show this: {self.error}", error=True)

    def _present(self, result, final=True, reuse=False) -> bool:
        """Draw ``result``, render it and show it (picture, text alternative, result line,
        views, code); False (and a one-line message) if drawing fails.  A ``final`` result's
        picture is kept by its parameters; with ``reuse`` (a learner's move) one kept is
        shown without drawing (the figure's artists then still show an earlier state:
        :attr:`png` is the picture; the next drawing sets every moving artist again)."""
        key = _params_key(self.params)
        png = self._pictures.get(key) if (final and reuse) else None
        if png is not None:
            self._pictures.move_to_end(key)
        else:
            try:
                with plots.style():
                    self._draw(result)
            except Exception as exc:
                self._fail(exc)
                return False
            self._stamp("drawn")
        self.error = None
        self.result = result
        if png is None:
            png = self._render()
            self._stamp("encoded")
            if final:
                _remember(self._pictures, key, png, self._keep_pictures)
        self.png = png
        if self._widget is not None:
            self._image.value = self.png
            self._stamp("picture_sent")
            self._alt.value = html.escape(self.describe(result))
            self._show_message(self._note(result))
            self._update_views(result)
            self._update_numbers(result)
            self._update_code()
        if self._stamps is not None:
            self._stamp("all_sent")
            _write_timing({**self._stamps, "kept": "drawn" not in self._stamps, "final": final,
                           "bytes": len(self.png)})
            self._stamps = None
        return True

    def _update_views(self, result) -> None:
        """Update widgets other than the picture (subclasses: HTML tables...)."""

    #: Caption of the table of numbers under the picture (:meth:`numbers`); None: no table.
    NUMBERS_TITLE: str | None = None
    #: Notes printed under that table (what its rows assume, how to read them).
    NUMBERS_NOTES: tuple = ()

    def numbers(self, result=None) -> list[tuple[str, str]]:
        """(what, value) rows of the table under the picture (explorers with a
        :attr:`NUMBERS_TITLE`): numbers as real text, not drawn in the picture."""
        return []

    def _update_numbers(self, result) -> None:
        if self.NUMBERS_TITLE is None:
            return
        from teachkit._display import html_table

        self._numbers_html.value = html_table(["", "value"], [list(r) for r in self.numbers(result)],
                                              align="lr", title=self.NUMBERS_TITLE, row_headers=True,
                                              notes=self.NUMBERS_NOTES)

    def _note(self, result) -> str:
        """A one-line HTML note under the controls (subclasses may override)."""
        return ""

    def describe(self, result=None) -> str:
        """What the picture shows, in words, with the current numbers: the figure's text
        alternative (subclasses say more).  ``result`` defaults to the current one."""
        result = self.result if result is None else result
        note = _plain(self._note(result)) if result is not None else ""
        return f"{self.title}. {note}".strip()

    def code(self, params: dict | None = None) -> str:
        """Python that reproduces the explorer's numbers for ``params`` (default: the
        current ones) with teachkit: what "Show the code" reveals.  Every explorer
        overrides it with the library calls themselves (``tk.design.events_required``,
        ``tk.sequential.interim_report``...), the bridge from the controls to the
        exercises; this fallback runs the explorer's own ``compute`` into ``result``."""
        p = self._full_params(self.params if params is None else params)
        args = ", ".join(f"{k}={v!r}" for k, v in p.items())
        return (f"import teachkit as tk\n\n"
                f"result = tk.explorers.{type(self).__name__}().compute({args})\n")

    # ---- widget -------------------------------------------------------------------------
    @property
    def widget(self):
        """The ipywidgets layout (built on first use)."""
        if self._widget is None:
            self._widget = self._build_widget()
        return self._widget

    def _ipython_display_(self):  # pragma: no cover - notebook only
        from IPython.display import display

        display(self.widget)

    def _build_widget(self):
        import ipywidgets as W

        for p in self.PARAMS:
            control = p.make_control()
            if p.kind == "seed":
                control.on_click(lambda _b, name=p.name: self._on_control(
                    name, (self.params[name] + 1) % 2**32))
            else:
                control.observe(lambda ch, name=p.name: self._on_control(name, ch["new"]),
                                names="value")
            self._controls[p.name] = control
        self._message = W.HTML(value="", layout=W.Layout(min_height="1.6em"))
        self._message.add_class("tk-live")  # a polite live region (see _a11y)
        self._image = W.Image(value=self.png, format="png",
                              layout=W.Layout(width="100%", max_width=f"{int(self.FIGSIZE[0] * 100)}px",
                                              height="auto"))
        # the picture's text alternative: hidden text the front end copies into its alt
        self._alt = W.HTML(html.escape(self.describe(self.result)) if self.result is not None else "")
        self._alt.add_class("tk-alt")
        self._alt.add_class("tk-visually-hidden")
        figure = W.Box([self._image, self._alt], layout=W.Layout(width="100%"))
        figure.add_class("tk-figure")
        self._progress = W.IntProgress(value=0, min=0, max=100, description="working",
                                       layout=W.Layout(visibility="hidden", width="50%"))
        header = W.HTML(f"<h3 style='margin:0.2em 0'>{html.escape(self.title)}</h3>")
        controls = W.GridBox(list(self._controls.values()) + self._extra_controls(),
                             layout=W.Layout(grid_template_columns="repeat(auto-fill, minmax(400px, 1fr))",
                                             grid_gap="4px 12px"))
        controls.add_class("tk-controls")
        self._code_button = W.Button(description="Show the code", icon="code",
                                     tooltip="the teachkit calls that reproduce these numbers",
                                     layout=W.Layout(width="auto"))
        self._code_button.add_class("tk-disclosure")
        self._code_html = W.HTML("", layout=W.Layout(display="none"))
        self._code_html.add_class("tk-code")
        self._code_button.on_click(lambda _b: self._toggle_code())
        self._show_message(self._note(self.result) if self.result is not None else "")
        numbers = []
        if self.NUMBERS_TITLE is not None:
            self._numbers_html = W.HTML()
            self._numbers_html.add_class("tk-numbers")
            numbers = [self._numbers_html]
        box = panel([header, controls, self._progress, self._message, figure] + numbers +
                    self._extra_views() + [self._code_button, self._code_html])
        if self.result is not None:
            self._update_views(self.result)
            self._update_numbers(self.result)
        self._prepare_backgrounds()
        if _progressive():
            self._prepare_first_grid()
        _SHOWN.add(self)
        return box

    # ---- "Show the code" ------------------------------------------------------------------
    def _toggle_code(self):
        shown = self._code_html.layout.display != "none"
        self._code_html.layout.display = "none" if shown else ""
        self._code_button.description = "Show the code" if shown else "Hide the code"
        self._update_code()

    def _update_code(self):
        # only while it is shown: a move sends no extra message otherwise
        html_widget = getattr(self, "_code_html", None)
        if html_widget is None or html_widget.layout.display == "none":
            return
        html_widget.value = f"<pre><code>{html.escape(self.code())}</code></pre>"

    def _extra_controls(self) -> list:
        return []

    def _extra_views(self) -> list:
        return []

    def _on_control(self, name, value):
        self._on_control_pair({name: value})

    def _on_control_pair(self, changes: dict):
        """A learner's move: :meth:`update`, progressively where the kernel has an event loop
        to come back to (the first of :meth:`compute_steps` is shown at once)."""
        if self._syncing:
            return
        if MOVE_TIMINGS:
            self._stamps = {"kind": "move", "explorer": type(self).__name__, "received": time.time()}
        try:
            changes = {k: self._params_by_name[k].from_control(v) for k, v in changes.items()}
            params = self.validate({**self.params, **changes})
            if params == self.params:
                return  # e.g. a slider putting its start on its grid: nothing to show
            self._apply(changes, progressive=_progressive(), params=params)
        except (ValueError, TypeError) as exc:  # cannot happen from a control; never a traceback
            self._show_message(f"Cannot use this value: {_short_message(exc)}", error=True)

    def _sync_controls(self, changes):
        if self._widget is None:
            return
        self._syncing = True
        try:
            for name in changes:
                control = self._controls.get(name)
                p = self._params_by_name[name]
                # not sent back when the control already stands for it (0.6099999999999999)
                if control is not None and p.kind != "seed" and (
                        p.from_control(control.value) != self.params[name]):
                    control.value = p.control_value(self.params[name])
        finally:
            self._syncing = False

    def _show_message(self, text: str, error: bool = False):
        if self._widget is None and not hasattr(self, "_message"):
            return
        colour = COLORS["error"] if error else COLORS["text"]
        body = html.escape(text) if error else text
        self._message.value = f"<span style='color:{colour}'>{body}</span>" if body else ""

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({shown})"


#: Explorers whose widget was built in this process (a lesson kernel's explorers).
_SHOWN: "weakref.WeakSet[Explorer]" = weakref.WeakSet()


def tell_every_explorer(text: str) -> int:
    """Show ``text`` in the message line of every explorer shown by this kernel; the number
    told.  The lessons server calls it before it stops a lesson left unused, so that the
    learner who comes back reads why nothing moves (see teachkit._lessonserver).

    >>> tell_every_explorer("nothing shown: no explorer here") >= 0
    True
    """
    told = 0
    for explorer in list(_SHOWN):
        explorer._show_message(str(text), error=True)
        told += 1
    return told


def _progressive() -> bool:
    """Whether a move may finish later: inside a running event loop (a Jupyter kernel handling
    a widget message), not in the browser's Python (Pyodide: untested there)."""
    if sys.platform == "emscripten":
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _decimal(x: float) -> str:
    """A number as ARIA wants it: plain decimal notation, no exponent.

    >>> _decimal(9.957e-05), _decimal(131), _decimal(-4.0)
    ('0.00009957', '131', '-4')
    """
    return np.format_float_positional(float(x), precision=6, unique=True, fractional=False,
                                      trim="-")


_TAG = re.compile(r"<[^>]+>")


def _plain(markup: str) -> str:
    """The text of a one-line HTML note (tags dropped, entities decoded).

    >>> _plain("<b>efficacy</b>: not met (Z = 1.55 &lt; 2.64)")
    'efficacy: not met (Z = 1.55 < 2.64)'
    """
    return html.unescape(_TAG.sub("", markup)).strip()


def _result_repr(self) -> str:
    fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items()
                       if not isinstance(v, np.ndarray) or v.size <= 6)
    return f"{type(self).__name__}({fields})"
