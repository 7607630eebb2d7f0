"""Each command's example and exit codes, shown at the end of its help (`stagewise CMD -h`).

Kept in one table so that no command is without them: tests/cli/test_cli_conventions.py fails when a
registered command has no entry here.
"""

from __future__ import annotations

REFUSED = "1 refused or broken (the message says why; nothing was written)"

EPILOGS: dict[str, tuple[list[str], list[str]]] = {
    "deploy": (["stagewise deploy 1.6.0 --stack production"], ["0 written", REFUSED]),
    "promote": (
        ["stagewise promote --stack production", "stagewise promote --to half --force --stack production"],
        ["0 written", REFUSED],
    ),
    "rollback": (["stagewise rollback --stack production"], ["0 written", REFUSED]),
    "abort": (["stagewise abort --stack production"], ["0 written", REFUSED]),
    "finish": (["stagewise finish --stack production"], ["0 written", REFUSED]),
    "status": (
        ["stagewise status --stack production", "stagewise status --watch --stack local", "stagewise status --json"],
        ["0 shown", "1 refused or a source could not be read"],
    ),
    "history": (["stagewise history --stack production --json"], ["0 shown", "1 refused or broken"]),
    "report": (["stagewise report --stack production --out report/"], ["0 written or shown", "1 refused or broken"]),
    "plan": (
        ["stagewise plan --stack production --markdown --against origin/main"],
        ["0 nothing changes", "2 something changes", "1 refused or broken (usage errors too)"],
    ),
    "analyze": (
        ["stagewise analyze --stack local --json"],
        [
            "0 promote (with --apply outside a deploy window: nothing written, said on stderr)",
            "3 hold",
            "4 abort",
            "5 stuck (a hold past the gate's no-traffic deadline)",
            "1 refused or broken",
        ],
    ),
    "watch": (
        ["stagewise watch --stack local --interval 30s --timeout 2h --apply"],
        [
            "0 promote",
            "3 hold at --timeout",
            "4 abort",
            "5 stuck (a stagewise:rollout.deadlines deadline passed, or the gate's own stuck)",
            "1 refused or broken",
        ],
    ),
    "replay": (["stagewise replay recorded.json --stack production"], ["0 judged", "1 refused or broken"]),
    "validate": (
        ["stagewise validate --stack production", "stagewise validate Pulumi.staging.yaml"],
        ["0 valid", "1 problems found (every one printed) or the file could not be read"],
    ),
    "notify": (
        ['stagewise notify up-failed --stack production -m "pulumi up failed: see run 123"'],
        ["0 sent, or reported on stderr where a target could not be reached", "1 refused (an unknown event, no stack)"],
    ),
    "dashboard": (
        ["stagewise dashboard --stack local", "stagewise dashboard --stack production --port 0"],
        ["0 stopped with Ctrl-C", "1 refused or the port is taken"],
    ),
}

MAIN_EPILOG = (
    "Example: stagewise status --stack production, then stagewise promote --stack production. "
    "Every command: stagewise COMMAND -h. Exit codes: 0 done, 1 refused or broken; plan 2 changes; "
    "analyze/watch 3 hold, 4 abort."
)


def epilog(command: str) -> str:
    examples, codes = EPILOGS[command]
    lines = "\n\n".join(f"  {e}" for e in examples)
    return f"Example:\n\n{lines}\n\nExit codes: {'; '.join(codes)}."
