"""Shared pytest configuration for teachkit's suite."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"

# Benchmarks are scripts run by `make bench`, not tests.
collect_ignore = ["benchmarks"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
