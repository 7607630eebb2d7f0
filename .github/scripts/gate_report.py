"""Texts the gate workflow writes from `stagewise analyze --json` (schema stagewise.analysis/v1).

gate_report.py subject  analysis.json   one line: the commit subject / pull request title
gate_report.py body     analysis.json   the numbers: commit message body (plain text)
gate_report.py markdown analysis.json   the analysis as a pull request body
gate_report.py share    STACK           percent of traffic the stack's stage sends to the candidate
gate_report.py stage-commit STACK       the commit that set the stack's stage (as analyze's stage.commit)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _num(value: Any, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def subject(report: dict[str, Any]) -> str:
    stage, applied = report["stage"], report.get("applied") or {}
    action = applied.get("command") or report["verdict"]
    target = f" -> {applied['to']}" if applied.get("to") else ""
    return f"Stage gate: {action} {report['stack']} at {stage['name']}{target} ({report['reason']})"[:200]


def body(report: dict[str, Any]) -> str:
    lines = [
        f"stagewise analyze: {report['verdict']} at {report['at']}",
        f"stage {report['stage']['name']} ({report['stage']['weight']} %) since {report['stage']['since']} "
        f"(commit {report['stage']['commit'][:12]}), provider {report['provider']}",
    ]
    for role, v in report["versions"].items():
        lines.append(
            f"{role} {v['version']} ({v['colour']}): {_num(v['requests'], '{:.0f}')} requests, "
            f"error rate {_num(v['errorRate'], '{:.2f} %')}, p95 {_num(v['p95Ms'], '{:.0f} ms')}"
        )
    for c in report["checks"]:
        p = f", p = {c['pValue']:.3g}" if c["pValue"] is not None else ""
        lines.append(f"{c['status']}: {c['description']} {_num(c['value'], '{:.4g}')} (limit {c['limit']:g}{p})")
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    stage = report["stage"]
    out = [
        f"## Stage gate: {report['verdict']} for `{report['stack']}`",
        "",
        f"{report['reason']}.",
        "",
        f"Stage **{stage['name']}** ({stage['weight']} % to the candidate) since {stage['since']} "
        f"(commit `{stage['commit'][:12]}`); bake {stage['bake']}, minRequests {stage['minRequests']}. "
        f"Metrics from {report['provider']}, window {report['window']['start']} .. {report['window']['end']}.",
        "",
        "| role | colour | version | requests | error rate | p95 |",
        "|---|---|---|---:|---:|---:|",
    ]
    for role, v in report["versions"].items():
        out.append(
            f"| {role} | {v['colour']} | `{v['version']}` | {_num(v['requests'], '{:.0f}')} | "
            f"{_num(v['errorRate'], '{:.2f} %')} | {_num(v['p95Ms'], '{:.0f} ms')} |"
        )
    out += ["", "| limit | value | allowed | p-value | result |", "|---|---:|---:|---:|---|"]
    for c in report["checks"]:
        out.append(
            f"| {c['description']} | {_num(c['value'], '{:.4g}')} | <= {c['limit']:g} | "
            f"{_num(c['pValue'], '{:.3g}')} | {c['status']} |"
        )
    return "\n".join(out) + "\n"


def share(stack: str) -> int:
    from stagewise.core import rollout
    from stagewise.tools import session  # the project's own reading of the stack file

    loaded = session.load(stack)
    return rollout.traffic(loaded.release, loaded.catalog)[loaded.release.candidate]


def stage_commit(stack: str) -> str:
    from stagewise.tools import session
    from stagewise.tools.gate import analysis

    loaded = session.load(stack)
    return analysis.stage_start(loaded.root, loaded.source, loaded.catalog, None, loaded.release).commit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("subject", "body", "markdown", "share", "stage-commit"))
    parser.add_argument("analysis", help="analysis JSON file (share, stage-commit: the stack name)")
    args = parser.parse_args(argv)
    if args.what == "share":
        print(share(args.analysis))
        return 0
    if args.what == "stage-commit":
        print(stage_commit(args.analysis))
        return 0
    report = json.loads(Path(args.analysis).read_text())
    print({"subject": subject, "body": body, "markdown": markdown}[args.what](report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
