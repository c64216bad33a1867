"""What makes the widgets usable by every learner: a small stylesheet and front-end patch
(accessible names, values read as shown, live results, radio groups, narrow screens),
the panel that carries them into a page, and figures with a text alternative.

ipywidgets 8.1 has no ARIA traits, so the parts it cannot express are added in the page by
:data:`FRONTEND`, a ``<style>`` and a ``<script>`` shown (invisibly) once before every
explorer or question.  The script only *adds* attributes, from what the widgets already
show:

* a slider handle is named by its visible label (``aria-labelledby``), its
  ``aria-valuetext`` is the readout the learner sees (a log-scale slider reads ``0.0600``,
  not the exponent ``-1.22``) and its ``aria-valuenow/min/max`` are the real values (from
  the ``tk-min_*``/``tk-max_*`` classes the Python side sets);
* the readout a learner may type into is a named text box;
* an explorer's picture gets ``alt`` from the visually hidden text beside it (the
  description :meth:`~teachkit.explorers.Explorer.describe` builds from the numbers;
  ipywidgets 8.1's ``Image.tooltip`` cannot carry it: the view fails to render);
* ``.tk-live`` elements are polite live regions (the one-line result, the feedback);
  while one holds a ``.tk-busy`` note (a move's first, rough result: the trial replayer),
  it and its figure are ``aria-busy``, so a screen reader announces the final line only;
* a :class:`~teachkit.explorers.CheckYourself` is a named radio group (arrow keys move
  between its answers);
* a table or display formula wider than the screen scrolls in its own box, which then
  takes the keyboard focus; a picture wider than a phone says that it scrolls sideways;
* on a slider, PageUp and PageDown move by a tenth of its range (of its log scale for a
  log slider: lesson 06's P slider reaches the boundary in three presses, not 59); Home and
  End go to its ends; the readout takes a typed value (Enter);
* radio options and checkbox labels wrap on a narrow screen instead of printing over each
  other, and a button's text wraps instead of being cut.

Without the script (e.g. an untrusted notebook in JupyterLab) everything still works, and
the picture's description is still read, as the hidden text after it.

>>> "aria-valuetext" in FRONTEND and "prefers-reduced-motion" in FRONTEND
True
"""

from __future__ import annotations

import base64
import html
import io
import os

#: Text colours (on white) of the feedback and messages: all >= 4.5:1 (WCAG 1.4.3).
COLORS = {"right": "#00694A", "wrong": "#A63D00", "error": "#B00020", "text": "#333333"}

_CSS = """
.tk-panel .widget-slider .noUi-target { border: 1px solid #767676; background: #F2F2F2; }
.tk-panel .widget-slider .noUi-handle { border: 1px solid #595959; }
.tk-panel .widget-slider .noUi-connect { background: #2F6DB5; }
.tk-panel :focus-visible, .tk-panel .noUi-handle:focus, .tk-check input:focus-visible {
  outline: 3px solid #1A5FB4 !important; outline-offset: 2px; }
.tk-panel .widget-readout:focus { outline: 3px solid #1A5FB4; }
.jp-RenderedHTMLCommon a:link, .jp-RenderedHTMLCommon a:visited { text-decoration: underline; }
.tk-figure { max-width: 100%; overflow-x: auto; }
.tk-panel table th, .tk-panel table td { padding: 2px 8px; }
.tk-figure > img { display: block; }
.tk-code pre { white-space: pre; overflow-x: auto; font-size: 13px; margin: 0; }
.tk-visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
.jp-RenderedHTMLCommon table { display: block; max-width: 100%; overflow-x: auto; }
.jp-RenderedHTMLCommon mjx-container[display="true"], .jp-RenderedHTMLCommon .MathJax_Display {
  display: block; max-width: 100%; overflow-x: auto; overflow-y: hidden; }
.tk-panel .widget-radio-box label, .tk-panel .widget-checkbox label.widget-label-basic {
  height: auto !important; min-height: var(--jp-widgets-inline-height, 28px); line-height: 1.35;
  white-space: normal; align-items: flex-start; padding: 3px 0; }
.tk-panel .widget-radio-box label input, .tk-panel .widget-checkbox input { margin-top: 3px; flex: none; }
.tk-panel .widget-radio-box { height: auto !important; }
.tk-panel .widget-checkbox { height: auto !important; }
.tk-panel .widget-checkbox label.widget-label-basic span { white-space: normal; overflow: visible; }
.tk-panel button.jupyter-button { height: auto; min-height: var(--jp-widgets-inline-height, 28px);
  white-space: normal; text-align: left; line-height: 1.3; padding-top: 4px; padding-bottom: 4px;
  max-width: 100%; overflow: visible; text-overflow: clip; }
.tk-panel .widget-label { text-overflow: clip; }
.tk-checklist-items { border: 1px solid #C8C8C8; padding: 2px 6px; }
.tk-panel .tk-wide-choice { flex-wrap: wrap; height: auto !important; }
.tk-panel .tk-wide-choice > .widget-label { flex: 1 1 100%; max-width: 100%; text-align: left !important;
  white-space: normal; }
.tk-panel .tk-wide-choice > select { flex: 1 1 100%; min-width: 0; max-width: 100%; }
.tk-figure[data-tk-scroll] { flex-wrap: wrap; }
.tk-figure[data-tk-scroll]::before { content: "Wider than the screen: scroll sideways to see the whole picture \\2192";
  display: block; flex: 0 0 100%; box-sizing: border-box; position: sticky; left: 0; font-size: 0.85em; color: #444444; padding: 2px 0; }
@media (max-width: 640px) {
  .tk-controls { grid-template-columns: minmax(0, 1fr) !important; }
  .tk-controls > .widget-inline-hbox { min-width: 0 !important; flex-wrap: wrap;
    height: auto !important; }
  .tk-controls > .widget-inline-hbox > .widget-label { flex: 1 1 100%; max-width: 100%;
    white-space: normal; text-align: left !important; }
  .tk-controls .slider-container { flex: 1 1 auto; min-width: 0; }
  .tk-controls .widget-dropdown > select, .tk-controls .widget-select-multiple > select {
    flex: 1 1 100%; min-width: 0; max-width: 100%; }
  .tk-figure > img { min-width: 680px; }
  .tk-check .widget-radio-box label { white-space: normal; }
  .jp-RenderedHTMLCommon p, .jp-RenderedHTMLCommon li { overflow-wrap: anywhere; }
}
@media (prefers-reduced-motion: reduce) { .tk-panel * { transition: none !important; } }
"""

_JS = r"""
(function () {
  if (window.__teachkitA11y) { window.__teachkitA11y.scan(document); return; }
  var uid = 0;
  function idOf(el, prefix) { if (!el.id) { el.id = prefix + '-' + (++uid); } return el.id; }
  function set(el, name, value) { if (el.getAttribute(name) !== value) el.setAttribute(name, value); }
  function labelOf(w) {
    for (var i = 0; i < w.children.length; i++) {
      if (w.children[i].classList.contains('widget-label')) return w.children[i];
    }
    return null;
  }
  function sync(w) {
    var handle = w.querySelector('.noUi-handle'), readout = w.querySelector('.widget-readout');
    if (!handle) return;
    var label = labelOf(w);
    if (label && label.textContent.trim()) {
      set(handle, 'aria-labelledby', idOf(label, 'tk-label'));
      if (readout) {
        set(readout, 'role', 'textbox');
        set(readout, 'aria-label', label.textContent.trim() + ' (type a value)');
      }
    }
    if (!readout) return;
    var text = readout.textContent.trim();
    if (text) set(handle, 'aria-valuetext', text);
    var value = Number(text);
    if (text && isFinite(value)) set(handle, 'aria-valuenow', String(value));
    w.classList.forEach(function (c) {
      var m = /^tk-(min|max)_(.+)$/.exec(c);
      if (m) set(handle, 'aria-value' + m[1], m[2]);
    });
  }
  function image(img) {
    var t = img.getAttribute('title');
    if (t) { set(img, 'alt', t); img.removeAttribute('title'); }
  }
  function describe(alt) {
    var fig = alt.closest('.tk-figure'), img = fig && fig.querySelector('img');
    if (!img) return;
    set(img, 'alt', alt.textContent.trim());
    set(alt, 'aria-hidden', 'true');  /* read once, as the picture's alt */
  }
  function check(box) {
    var group = box.querySelector('.widget-radio-box'), q = box.querySelector('.tk-question');
    if (!group) return;
    set(group, 'role', 'radiogroup');
    if (q) set(group, 'aria-labelledby', idOf(q, 'tk-question'));
    var name = idOf(group, 'tk-radio');
    group.querySelectorAll('input[type="radio"]').forEach(function (r) { set(r, 'name', name); });
  }
  function radios(widget) {   // a RadioButtons control (class tk-radiogroup): a named group
    var group = widget.querySelector('.widget-radio-box'), label = widget.querySelector('.widget-label');
    if (!group) return;
    set(group, 'role', 'radiogroup');
    if (label && label.textContent.trim()) set(group, 'aria-labelledby', idOf(label, 'tk-group-label'));
    var name = idOf(group, 'tk-radio');
    group.querySelectorAll('input[type="radio"]').forEach(function (r) { set(r, 'name', name); });
  }
  function busy(live) {   // a first, rough result shown (.tk-busy): wait for the final one
    var on = !!live.querySelector('.tk-busy'), panel = live.closest('.tk-panel');
    [live, panel && panel.querySelector('.tk-figure')].forEach(function (el) {
      if (!el) return;
      if (on) set(el, 'aria-busy', 'true'); else el.removeAttribute('aria-busy');
    });
  }
  function scroller(el) {
    var wide = el.scrollWidth > el.clientWidth;   // as axe-core counts a scrollable region
    if (wide && !el.hasAttribute('tabindex')) { el.setAttribute('tabindex', '0'); el.dataset.tkScroll = '1'; }
    if (!wide && el.dataset.tkScroll) { el.removeAttribute('tabindex'); delete el.dataset.tkScroll; }
  }
  function scan(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll('.widget-slider').forEach(sync);
    root.querySelectorAll('.tk-figure img[title]').forEach(image);
    root.querySelectorAll('.tk-figure .tk-alt').forEach(describe);
    root.querySelectorAll('.tk-live').forEach(function (el) {
      set(el, 'role', 'status'); set(el, 'aria-live', 'polite'); busy(el);
    });
    root.querySelectorAll('.tk-check').forEach(check);
    root.querySelectorAll('.tk-radiogroup').forEach(radios);
    root.querySelectorAll('button.tk-disclosure').forEach(function (b) {
      set(b, 'aria-expanded', /^\s*Hide/.test(b.textContent) ? 'true' : 'false');
    });
    document.querySelectorAll('.jp-RenderedHTMLCommon, .jp-RenderedHTMLCommon table, .tk-figure, .tk-code pre, '
      + '.tk-panel .widget-box, .tk-panel .widget-html-content, '
      + '.jp-RenderedHTMLCommon mjx-container[display="true"]').forEach(scroller);
  }
  // New nodes (a widget drawn, a table replaced) are scanned after the next frame is
  // painted, not before it: the scan reads layout (scrollWidth), which would hold the new
  // picture back by a forced layout of the whole page on every move.  (The slider and alt
  // text attributes above are set at once.)  The timeout covers a tab that paints no frame.
  var pending = false;
  function run() { if (pending) { pending = false; scan(document); } }
  function later() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { setTimeout(run, 0); });
    setTimeout(run, 250);
  }
  new MutationObserver(function (records) {
    for (var i = 0; i < records.length; i++) {
      var r = records[i], el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (r.type === 'attributes' && r.attributeName === 'title' && el.matches('img')) { image(el); continue; }
      var w = el && el.closest && el.closest('.widget-slider');
      if (w) { sync(w); continue; }
      var a = el && el.closest && el.closest('.tk-alt');
      if (a) { describe(a); continue; }
      if (r.type === 'childList' && r.addedNodes.length) later();
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true,
                             attributeFilter: ['aria-valuetext', 'aria-valuenow', 'title']});
  window.addEventListener('resize', later);
  // PageUp/PageDown on a slider: a tenth of its range (of its log scale for a log slider),
  // through the readout's typed value (the widget's own way to set an exact value).
  document.addEventListener('keydown', function (e) {
    if (e.key !== 'PageUp' && e.key !== 'PageDown') return;
    var h = e.target.closest && e.target.closest('.tk-panel .widget-slider .noUi-handle');
    var w = h && h.closest('.widget-slider'), r = w && w.querySelector('.widget-readout');
    if (!r) return;
    var min = NaN, max = NaN, v = Number(r.textContent.trim());
    w.classList.forEach(function (c) {
      var m = /^tk-(min|max)_(.+)$/.exec(c);
      if (m && m[1] === 'min') min = Number(m[2]);
      if (m && m[1] === 'max') max = Number(m[2]);
    });
    if (!isFinite(min) || !isFinite(max) || !isFinite(v)) return;
    e.preventDefault(); e.stopImmediatePropagation();
    var up = e.key === 'PageUp' ? 1 : -1, next;
    if (w.classList.contains('tk-log') && min > 0 && v > 0) {
      next = Math.pow(10, Math.log10(v) + up * (Math.log10(max) - Math.log10(min)) / 10);
    } else {
      next = v + up * (max - min) / 10;
    }
    next = Math.min(max, Math.max(min, next));
    r.textContent = String(Number(next.toPrecision(3)));
    r.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', code: 'Enter', keyCode: 13, which: 13,
                                                  bubbles: true, cancelable: true}));
    h.focus();
  }, true);
  window.__teachkitA11y = {scan: scan};
  scan(document);
})();
"""

#: The stylesheet and script (HTML) shown before every explorer and question.
FRONTEND = f"<style>{_CSS}</style><script>{_JS}</script>"


def frontend():
    """The :data:`FRONTEND` as an ``IPython.display.HTML`` object (display it once per page
    when building widgets by hand; explorers and questions display it themselves)."""
    from IPython.display import HTML

    return HTML(FRONTEND)


def _panel_class():
    import ipywidgets as W

    class Panel(W.VBox):
        """A VBox that brings :data:`FRONTEND` along when displayed."""

        def _ipython_display_(self, **kwargs):  # pragma: no cover - notebook only
            from IPython.display import display

            display(frontend())
            display(self._repr_mimebundle_(), raw=True)

    return Panel


_PANEL = None


def panel(children, classes=("tk-panel",)):
    """A :class:`Panel` (VBox) holding ``children``, with the CSS classes ``classes``."""
    global _PANEL
    if _PANEL is None:
        _PANEL = _panel_class()
    box = _PANEL(children)
    for c in classes:
        box.add_class(c)
    return box


def figure_html(fig, alt: str, *, dpi: int = 100) -> str:
    """HTML showing a static matplotlib figure with a text alternative (see :func:`show_figure`).

    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 1)); _ = fig.add_subplot().plot([0, 1], [1, 0])
    >>> figure_html(fig, alt="a falling line").count('alt="a falling line"')
    1
    >>> figure_html(fig, alt=" ")
    Traceback (most recent call last):
    ...
    ValueError: alt must describe the figure (a non-empty string)
    """
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt must describe the figure (a non-empty string)")
    if not hasattr(fig, "savefig"):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if os.environ.get("TEACHKIT_STRICT_FIGURES"):
        # the lessons' tests: a figure that looks broken stops the lesson (issue 26, item 7)
        from teachkit.plots import figure_problems

        problems = figure_problems(fig)
        if problems:
            raise ValueError("fig looks broken: " + "; ".join(problems))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    width = int(fig.get_figwidth() * dpi)
    return (f'{FRONTEND}<div class="tk-figure"><img src="data:image/png;base64,{data}" '
            f'alt="{html.escape(alt.strip(), quote=True)}" '
            f'style="width:100%;max-width:{width}px;height:auto"></div>')


class _Shown:
    """What :func:`show_figure` returns: nothing more to show.  (It used to return None, and
    a lesson's ``display(show_figure(...))`` printed a stray "None" under the figure.)"""

    def _ipython_display_(self):
        pass

    def __repr__(self):
        return "<figure shown>"


def show_figure(fig, alt: str, *, dpi: int = 100):
    """Display a static matplotlib figure with a text alternative.

    ``alt`` says what the figure shows with its numbers (e.g. "2-year DFS: blinatumomab
    79.4%, chemotherapy 58.1%"): screen readers read it instead of the picture.  The
    figure is shown as an ``<img alt=...>`` that scales down on narrow screens and
    scrolls sideways (rather than shrinking below legibility) on phones.  Use it in a
    lesson instead of ``display(fig)``.  What it returns displays nothing (so
    ``display(show_figure(...))`` shows the figure once, and no "None").
    """
    from IPython.display import HTML, display

    display(HTML(figure_html(fig, alt, dpi=dpi)))
    return _Shown()
