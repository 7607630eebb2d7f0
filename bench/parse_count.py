"""How many times one `stagewise promote`, and the `stagewise plan` of it, parse YAML, counted at the
parser's two entry points.

Run: .venv/bin/python bench/parse_count.py [--stack production]

Copies the project's Pulumi.yaml and stack files to a temporary git repository and commits them with
the stack's release at the first stage with a candidate deployed (not counted), then runs, there and in
process, `stagewise promote --stack <stack>` and `stagewise plan --stack <stack>` (the committed stack
against the promoted one), with every YAML parse counted. Every parse in this code base goes through
ruamel's `YAML.parse` (the engine-faithful reader, stagewise.formats.yamlv3, builds on its events) or
`YAML.load` (the round-trip editor, stagewise.tools.stackedit). Each parse is counted under what it read:

- stack text: the stack file as read (or as committed), or the text the edit writes;
- project text: Pulumi.yaml;
- other: a single value (the editor checks how a new tag reads back).

Prints the counts; asserts nothing, so that the figure before and after a change can be compared.
Measured on `--stack production` (and dev, the same):

- promote: before a command parsed each text once and passed it down, the stack text 9 times (8
  engine reads, 1 round-trip load) and Pulumi.yaml twice; after, 3 times (the read, the editor's
  round trip, the edited text) and once.
  tests/cli/test_cli_commands.py (test_promote_parses_each_text_once) keeps it there.
- plan: the stack text twice (once per side: as committed, and in the working tree); Pulumi.yaml
  4 times before it was parsed once per side (each side read the project name, then the defaults),
  twice after. tests/cli/test_cli_plan.py (test_plan_parses_each_text_once_per_side) keeps it there.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ruamel.yaml import YAML  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from stagewise.tools import cli, stackedit  # noqa: E402


def _text(stream: Any) -> str:
    if isinstance(stream, str):
        return stream
    if isinstance(stream, io.StringIO):
        return stream.getvalue()
    return repr(stream)


@contextlib.contextmanager
def counted(project_text: str) -> Iterator[Counter[str]]:
    """Count every YAML.parse and YAML.load while the block runs, by what they read."""
    counts: Counter[str] = Counter()
    project = project_text.removeprefix("\ufeff")

    def kind(stream: Any) -> str:
        text = _text(stream).removeprefix("\ufeff")
        if text == project:
            return "project text"
        return "stack text" if "stagewise:release" in text else "other"

    original_parse, original_load = YAML.parse, YAML.load

    def parse(self: YAML, stream: Any) -> Any:
        counts[f"{kind(stream)} (parse)"] += 1
        return original_parse(self, stream)

    def load(self: YAML, stream: Any) -> Any:
        counts[f"{kind(stream)} (load)"] += 1
        return original_load(self, stream)

    YAML.parse, YAML.load = parse, load  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        YAML.parse, YAML.load = original_parse, original_load  # type: ignore[method-assign]


@contextlib.contextmanager
def inside(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def git(folder: Path, *args: str) -> None:
    identity = ["-c", "user.name=parse_count", "-c", "user.email=parse_count@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", *identity, *args], cwd=folder, check=True, capture_output=True)


def report(command: str, counts: Counter[str]) -> None:
    print(command)
    for key in sorted(counts):
        print(f"  {key}: {counts[key]}")
    stack = sum(n for key, n in counts.items() if key.startswith("stack text"))
    project = sum(n for key, n in counts.items() if key.startswith("project text"))
    print(f"  stack text parsed {stack} times, Pulumi.yaml {project}; YAML parses in all: {sum(counts.values())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="production")
    args = parser.parse_args()
    runner = CliRunner()

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for path in [ROOT / "Pulumi.yaml", *ROOT.glob("Pulumi.*.yaml")]:
            shutil.copy(path, work / path.name)
        # The local stack's program reads the local cluster's kubeconfig; under mocks any file will do.
        (work / ".cluster").mkdir()
        (work / ".cluster" / "kubeconfig").write_text("apiVersion: v1\nkind: Config\n")
        (work / ".gitignore").write_text(".cluster/\n")
        stack_file = work / f"Pulumi.{args.stack}.yaml"
        # A known state: blue live on 1.0.0, green deployed with 1.1.0, at idle.
        values = {"blue": "1.0.0", "green": "1.1.0", "live": "blue", "stage": "idle"}
        stack_file.write_text(stackedit.edit_release(stack_file.read_text(), values))
        before = stack_file.read_bytes()
        git(work, "init", "-q")
        git(work, "add", "-A")
        git(work, "commit", "-q", "-m", "known state")

        with inside(work), counted((work / "Pulumi.yaml").read_text()) as promoted:
            result = runner.invoke(cli.app, ["promote", "--stack", args.stack], env={"COLUMNS": "200"})
        if result.exit_code != 0:
            raise SystemExit(f"promote failed ({result.exit_code}): {result.output}")
        assert stack_file.read_bytes() != before, "promote wrote nothing"
        report(f"stagewise promote --stack {args.stack}: {result.output.splitlines()[0]}", promoted)

        # The plan of that promote: the committed stack against the promoted one, each side evaluated.
        with inside(work), counted((work / "Pulumi.yaml").read_text()) as planned:
            result = runner.invoke(cli.app, ["plan", "--stack", args.stack], env={"COLUMNS": "200"})
        if result.exit_code != 2:
            raise SystemExit(f"plan found no changes or failed ({result.exit_code}): {result.output}")
        report(f"stagewise plan --stack {args.stack}: {result.output.splitlines()[0]}", planned)


if __name__ == "__main__":
    main()
