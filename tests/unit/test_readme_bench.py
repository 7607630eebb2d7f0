"""The README's list of benchmarks stays true: every script `make bench` runs is named in it, in the
Makefile's order, and every benchmark under bench/ is named somewhere in it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _make_bench() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^bench:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "the Makefile has no bench target"
    return re.findall(r"bench/\w+\.py", recipe.group(1))


def _paragraph() -> str:
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"^Benchmarks print figures.*?(?=\n\n)", readme, re.MULTILINE | re.DOTALL)
    assert found, "the README has no paragraph on the benchmarks"
    return found.group(0)


def test_the_readme_names_what_make_bench_runs_in_its_order():
    named = re.findall(r"bench/\w+\.py", _paragraph())
    run = _make_bench()
    assert run and named[: len(run)] == run


def test_every_benchmark_under_bench_is_named_in_the_readme():
    named = set(re.findall(r"bench/\w+\.py", _paragraph()))
    helpers = {"bench/gate_quality_promql.py"}  # the PromQL path of gate_quality.py, run through it
    scripts = {f"bench/{p.name}" for p in (ROOT / "bench").glob("*.py")} - helpers
    assert sorted(scripts - named) == []
