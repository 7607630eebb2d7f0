"""The helpers scripts/lib.sh gives every script: the cache's one notion of a built tool, stopping
processes by PID, waiting for a condition. Run in bash against a cache in a temporary folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bash(script: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail; . scripts/lib.sh; {script}"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "HOME": str(cache), "STAGEWISE_CACHE": str(cache)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_tool_is_cached_once_installed_whole_and_with_its_recipe(tmp_path: Path):
    built = tmp_path / "built"
    built.write_text("#!/bin/sh\n")
    script = f"""
        tool_cached etcd && echo early
        install_tool etcd {built}
        tool_cached etcd && echo etcd
        install_tool pulumi-resource-kubernetes {built} 'module@v1 as v4'
        tool_cached pulumi-resource-kubernetes 'module@v1 as v4' && echo recipe
        tool_cached pulumi-resource-kubernetes 'module@v2 as v4' || echo other-recipe
        ls -A "$(tool_dir etcd)"
    """
    result = bash(script, tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["etcd", "recipe", "other-recipe", "etcd"]  # no temporary file left
    assert (tmp_path / "cache" / "bin" / "pulumi-resource-kubernetes-v4.32.0" / ".stamp").read_text() == (
        "module@v1 as v4\n"
    )


def test_a_binary_without_its_stamp_is_not_the_recipes_build(tmp_path: Path):
    built = tmp_path / "built"
    built.write_text("#!/bin/sh\n")
    script = f"""
        install_tool pulumi {built} recipe-1
        rm "$(tool_stamp pulumi)"
        tool_cached pulumi recipe-1 || echo rebuild
        tool_cached pulumi && echo binary
    """
    assert bash(script, tmp_path).stdout.split() == ["rebuild", "binary"]


def test_stop_pids_terms_then_kills_what_ignores_term(tmp_path: Path):
    script = """
        sleep 30 & polite=$!
        (trap '' TERM; exec sleep 30) & stubborn=$!
        sleep 0.3
        start=$SECONDS
        stop_pids 1 "$polite" "$stubborn" && echo stopped
        kill -0 "$polite" 2>/dev/null || echo polite-gone
        kill -0 "$stubborn" 2>/dev/null || echo stubborn-gone
        echo "$((SECONDS - start))"
    """
    result = bash(script, tmp_path)
    *said, seconds = result.stdout.split()
    assert said == ["stopped", "polite-gone", "stubborn-gone"], result.stderr
    assert int(seconds) <= 3


def test_wait_until_logs_what_it_waited_for_or_gives_up(tmp_path: Path):
    result = bash('wait_until "a file" 5 test -e /; wait_until "never" 1 false || echo gave-up', tmp_path)
    assert result.stdout.split() == ["gave-up"]
    assert "[stagewise] a file (0s)" in result.stderr
