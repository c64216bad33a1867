"""Controls ipywidgets lacks, for the explorers' parameters (see :class:`Param`)."""

from __future__ import annotations

import html

_CHECK_LIST = None


def check_list_class():
    """:class:`CheckList`, made on first use (ipywidgets is imported only with a widget)."""
    global _CHECK_LIST
    if _CHECK_LIST is not None:
        return _CHECK_LIST
    import ipywidgets as W
    import traitlets

    class CheckList(W.VBox):
        """A set of items chosen with one checkbox each, and a button that clears them: the
        control of an ``"indices"`` parameter (lesson 01's patients whose censoring is
        switched).  Unlike a multiple-selection list, moving through it with the keyboard
        (Tab) changes nothing; Space ticks or unticks the focused item.

        ``value`` is the tuple of the chosen items' values, ``options`` the ``(label, value)``
        pairs, as for ``ipywidgets.SelectMultiple``.
        """

        value = traitlets.Tuple()
        options = traitlets.List()
        description = traitlets.Unicode()

        def __init__(self, options=(), value=(), description="", **kwargs):
            self._boxes = []
            self._updating = False
            self._title = W.HTML(f"<span class='widget-label-basic'>{html.escape(description)}</span>")
            self._title.add_class("tk-checklist-title")
            self._list = W.VBox([], layout=W.Layout(max_height="15em", overflow_y="auto", width="100%"))
            self._list.add_class("tk-checklist-items")
            self._reset = W.Button(description="Reset: switch none", icon="undo",
                                   tooltip="switch every patient back to the data as published",
                                   layout=W.Layout(width="auto"))
            self._reset.on_click(lambda _b: setattr(self, "value", ()))
            super().__init__([self._title, self._list, self._reset], layout=W.Layout(width="100%"), **kwargs)
            self.add_class("tk-checklist")
            self.description = description
            self.options = list(options)
            self.value = tuple(value)

        @traitlets.observe("options")
        def _options_changed(self, change):
            import ipywidgets as W

            options = [tuple(o) for o in change["new"]]
            while len(self._boxes) < len(options):
                box = W.Checkbox(value=False, indent=False, layout=W.Layout(width="auto"),
                                 style={"description_width": "initial"})
                box.observe(self._box_changed, names="value")
                self._boxes.append(box)
            self._updating = True
            try:
                for box, (label, _) in zip(self._boxes, options):
                    box.description = label
            finally:
                self._updating = False
            self._list.children = tuple(self._boxes[:len(options)])
            self._show(self.value)

        @traitlets.observe("value")
        def _value_changed(self, change):
            self._show(change["new"])

        def _show(self, value):
            chosen = set(value)
            self._updating = True
            try:
                for box, (_, v) in zip(self._boxes, self.options):
                    if box.value != (v in chosen):
                        box.value = v in chosen
            finally:
                self._updating = False

        def _box_changed(self, change):
            if self._updating:
                return
            self.value = tuple(v for box, (_, v) in zip(self._boxes, self.options) if box.value)

    _CHECK_LIST = CheckList
    return CheckList
