"""The docs' table of policies, rendered from the policy records.

`python -m stagewise.policy.docs` rewrites the table in docs/policy-and-workflows.md (between the
markers), `--check` only says whether it is current; a test holds the file to the rendering.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stagewise.policy.catalogue import RECORDS
from stagewise.policy.record import OnEveryResource, OnResources, PolicyRecord, twin_text

DOC = Path(__file__).resolve().parents[1] / "docs" / "policy-and-workflows.md"
BEGIN = "<!-- policies: written by `python -m stagewise.policy.docs` from the records in policy/; edit those -->"
END = "<!-- end of policies -->"
HEADER = (
    "| Policy | Resources | Rule | Tiers | Config (default) | Validator twin |",
    "| --- | --- | --- | --- | --- | --- |",
)


def _cell(text: str) -> str:
    # A pipe splits a table cell even inside backticks (GitHub Flavored Markdown, tables extension).
    return text.replace("|", "\\|")


def _default(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return f"`{value}`" if isinstance(value, str) else str(value)


def _resources(record: PolicyRecord) -> str:
    if isinstance(record.check, OnResources):
        return ", ".join(f"`{t.removeprefix('azure-native:')}`" for t in record.check.types)
    if isinstance(record.check, OnEveryResource):
        return record.check.applies_to
    return "the stack"


def row(record: PolicyRecord) -> str:
    name = f"`{record.name}`" + (f" ({record.level})" if record.level != "mandatory" else "")
    config = ", ".join(f"`{key.name}` ({_default(key.default)})" for key in record.config)
    # The twin's text is plain prose: a <placeholder> in it would read as an HTML tag.
    twin = twin_text(record.twin).replace("<", "&lt;")
    cells = (name, _resources(record), record.rule, record.tiers, config, twin)
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def table(records: Sequence[PolicyRecord] = RECORDS) -> str:
    """The Markdown table of `records`, one row per policy, between the markers."""
    return "\n".join((BEGIN, "", *HEADER, *(row(r) for r in records), "", END))


def rewrite(text: str, records: Sequence[PolicyRecord] = RECORDS) -> str:
    """`text` with the block between the markers replaced by the table of `records`."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the policy table's markers are missing: {BEGIN!r} ... {END!r}")
    return text[:start] + table(records) + text[end + len(END) :]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stagewise.policy.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the table is not current, write nothing")
    parser.add_argument("doc", nargs="?", type=Path, default=DOC)
    args = parser.parse_args(argv)
    text = args.doc.read_text()
    current = rewrite(text)
    if current == text:
        return 0
    if args.check:
        print(f"{args.doc}: the policy table is not current; run python -m stagewise.policy.docs", file=sys.stderr)
        return 1
    args.doc.write_text(current)
    return 0


if __name__ == "__main__":
    sys.exit(main())
