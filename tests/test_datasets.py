"""teachkit.datasets: packaged CSVs equal the reference copies; loaders are read-only."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import teachkit as tk

DATA = Path(__file__).resolve().parent / "data"


def _rows(name):
    with open(DATA / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_freireich_matches_reference_copy():
    d = tk.datasets.freireich()
    rows = _rows("freireich_6mp.csv")
    np.testing.assert_array_equal(d.time, [float(r["time"]) for r in rows])
    np.testing.assert_array_equal(d.event, [int(r["event"]) for r in rows])
    np.testing.assert_array_equal(d.group, [r["group"] for r in rows])
    # Freireich et al. 1963: 21 pairs; all placebo children relapsed, 9 of 21 on 6-MP
    assert d.n == 42
    assert int(d.event[d.group == "placebo"].sum()) == 21
    assert int(d.event[d.group == "6-MP"].sum()) == 9
    assert "Blood" in d.source and "1963" in d.source and d.time_unit == "weeks"


def test_aml_matches_reference_copy():
    d = tk.datasets.aml()
    rows = _rows("aml.csv")
    np.testing.assert_array_equal(d.time, [float(r["time"]) for r in rows])
    np.testing.assert_array_equal(d.event, [int(r["status"]) for r in rows])
    np.testing.assert_array_equal(d.group, [r["x"] for r in rows])
    assert d.n == 23 and sorted(set(d.group.tolist())) == ["Maintained", "Nonmaintained"]


def test_read_only_and_frame():
    d = tk.datasets.freireich()
    with pytest.raises(ValueError):
        d.time[0] = 1.0
    with pytest.raises(AttributeError):
        d.name = "x"
    frame = d.to_frame()
    assert list(frame.columns) == ["time", "event", "group"] and len(frame) == 42
    assert "6-MP: n=21, 9 relapses" in repr(d)
    assert "<table>" in d._repr_html_()
