"""The README's table of each component's required inputs is the Args classes' own: a field without a
default is required. On a mismatch the message holds the table to paste."""

import dataclasses
import re
from pathlib import Path

import stagewise.components as public

README = Path(__file__).resolve().parents[2] / "README.md"
BEGIN, END = "<!-- component inputs: begin -->", "<!-- component inputs: end -->"


def _required(args: type) -> list[str]:
    return [
        f.name
        for f in dataclasses.fields(args)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]


def table() -> str:
    rows = ["| component | required inputs (its `Args`) |", "|---|---|"]
    for name in public.__all__:
        args = getattr(public, f"{name}Args", None)
        if args is not None and dataclasses.is_dataclass(args):
            rows.append(f"| `{name}` | {', '.join(f'`{field}`' for field in _required(args)) or 'none'} |")
    return "\n".join(rows)


def test_the_readme_lists_every_components_required_inputs():
    text = README.read_text()
    found = re.search(re.escape(BEGIN) + r"\n(.*?)\n" + re.escape(END), text, re.S)
    assert found, f"README.md has no block between {BEGIN} and {END}"
    assert found.group(1) == table(), f"README.md's table is out of date; it should read:\n{table()}"
