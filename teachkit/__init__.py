"""teachkit: learn survival analysis, risk stratification and sequential monitoring
by finding out, with your own hands, why the AALL1331 trial stopped early.

>>> import teachkit as tk
>>> tk.aall1331.FACTS["interim"]["events"].value
80

Submodules are imported on first use (``tk.survival``, ``tk.sequential`` ...), so
``import teachkit`` stays fast inside a lesson kernel.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: The modules of the library, in the order data flows (see DESIGN.md).
SUBMODULES = (
    "survival",
    "cox",
    "tables",
    "design",
    "sequential",
    "risk",
    "aall1331",
    "aall1331_plan",
    "cohort",
    "datasets",
    "simulate",
    "plots",
    "explorers",
    "cli",
)

__all__ = ["__version__", *SUBMODULES]


def __getattr__(name: str):
    if name in SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'teachkit' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
