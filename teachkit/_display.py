"""One way to show a table of results: as aligned text and as HTML, with the same look.

Used by :class:`teachkit.survival.StepTable`, the Cox and proportional-hazards
summaries (:mod:`teachkit.cox`), the randomization imbalance and risk-group
explanations (:mod:`teachkit.risk`) and the paper's tables
(:class:`teachkit.aall1331.PublishedTable`).  Cells arrive already formatted as
strings; this module only lays them out:

* text: an optional title line, the header, one line per row, optional notes;
  columns separated by two spaces, left-aligned (``"l"``) or right-aligned
  (``"r"``), trailing blanks removed;
* HTML: ``<table>`` with the title as ``<caption>``, the same header and cells,
  right-aligned columns right-aligned, and the notes in small print below.

>>> print(text_table(["arm", "events"], [["blinatumomab", "48"], ["chemotherapy", "59"]],
...                  align="lr", title="First events"))
First events
arm           events
blinatumomab      48
chemotherapy      59
>>> html_table(["arm", "n"], [["A & B", "3"]], align="lr")
'<table><thead><tr><th>arm</th><th style="text-align:right">n</th></tr></thead><tbody><tr><td>A &amp; B</td><td style="text-align:right">3</td></tr></tbody></table>'
"""

from __future__ import annotations

import html

import numpy as np

__all__ = ["text_table", "html_table", "column_alignment"]

_RIGHT = ' style="text-align:right"'


def _check(header, rows, align):
    header = [str(h) for h in header]
    rows = [[str(c) for c in row] for row in rows]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"every row must have {len(header)} cells (one per header), got {len(row)}")
    align = "r" * len(header) if align is None else str(align)
    if len(align) != len(header) or set(align) - {"l", "r"}:
        raise ValueError(f"align must be one 'l' or 'r' per column ({len(header)}), got {align!r}")
    return header, rows, align


def text_table(header, rows, *, align=None, title=None, notes=()) -> str:
    """The table as aligned text (``align``: one ``"l"``/``"r"`` per column; default all right)."""
    header, rows, align = _check(header, rows, align)
    widths = [max(len(c) for c in col) for col in zip(header, *rows)]

    def line(cells):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                         for c, w, a in zip(cells, widths, align)).rstrip()

    out = ([title] if title else []) + [line(header)] + [line(r) for r in rows]
    return "\n".join(out + [str(n) for n in notes])


def html_table(header, rows, *, align=None, title=None, notes=(), row_headers=False) -> str:
    """The same table as HTML; with ``row_headers`` the first cell of each row is a ``<th>``."""
    header, rows, align = _check(header, rows, align)

    def cell(tag, text, a):
        return f"<{tag}{_RIGHT if a == 'r' else ''}>{html.escape(text)}</{tag}>"

    head = "".join(cell("th", h, a) for h, a in zip(header, align))
    body = "".join(
        "<tr>" + "".join(cell("th" if (row_headers and j == 0) else "td", c, a)
                         for j, (c, a) in enumerate(zip(row, align))) + "</tr>"
        for row in rows)
    cap = f"<caption>{html.escape(title)}</caption>" if title else ""
    out = f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if notes:
        out += "<p><small>" + "<br>".join(html.escape(str(n)) for n in notes) + "</small></p>"
    return out


def column_alignment(columns) -> str:
    """``"l"`` for text columns and ``"r"`` for numbers, from numpy arrays' dtypes.

    >>> column_alignment([np.array(["a"]), np.array([1.5]), np.array([True])])
    'lrr'
    """
    return "".join("l" if np.asarray(c).dtype.kind in "OUS" else "r" for c in columns)
