"""The ``helpers`` package exports exactly what the notebooks use."""

from __future__ import annotations

import re

from conftest import ROOT

import helpers

SEED_APIS = {"run_evaluation"}  # seed 002's harness: students call it themselves (the notebooks use evaluate_or_plan)
ERRORS = {name for name in helpers.__all__ if name.endswith(("Error", "Miss", "Corrupt", "Unavailable", "Forbidden"))}


def used_names() -> set[str]:
    """Every ``hp.<name>`` in the notebook sources, scripts and benchmarks."""
    files = [*(ROOT / "notebooks" / "src").glob("*.py"), *(ROOT / "scripts").glob("*.py")]
    files += [*(ROOT / "benchmarks").glob("*.py")]
    return {m for f in files for m in re.findall(r"\bhp\.([A-Za-z_]\w*)", f.read_text())}


def test_all_is_an_explicit_list_of_what_is_used():
    exported = set(helpers.__all__)
    assert len(exported) == len(helpers.__all__), "no name twice"
    assert all(hasattr(helpers, name) for name in exported)
    assert exported - ERRORS - SEED_APIS - used_names() == set(), "exported but used nowhere"
    assert used_names() - exported == set(), "used as hp.<name> but not exported"
