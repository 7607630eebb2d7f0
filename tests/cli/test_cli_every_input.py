"""Every input issue 26 names (and the variants found beside them) gets a one-line answer: the message
names the key or field and what would be accepted, exit code 1, no traceback, and the stack file is
byte for byte as it was. Runs in the unit lane: no engine, no network, a few seconds."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.cli.test_cli_replay import EXAMPLE

# --- helpers ----------------------------------------------------------------------------------------


def with_config(text: str, key: str, value: str) -> str:
    """The stack file's text with `stagewise:<key>` set to `value` (YAML flow text), in place of the
    key's block if the file has one."""
    lines, kept, skipping = text.splitlines(), [], False
    for line in lines:
        if line.startswith(f"  stagewise:{key}:"):
            skipping = True
            continue
        if skipping and (line.startswith("    ") or not line.strip()):
            continue
        skipping = False
        kept.append(line)
    out = "\n".join(kept) + "\n"
    return out.replace("config:\n", f"config:\n  stagewise:{key}: {value}\n", 1)


@dataclass(frozen=True)
class Case:
    id: str
    stack: str
    edits: tuple[tuple[str, str], ...]
    """(key, YAML value) set in the stack file before the command."""
    command: tuple[str, ...]
    expected: tuple[str, ...]
    """Fragments of the message: the key, the value, what is allowed."""


def case(id: str, stack: str, key: str, value: str, *expected: str, command: tuple[str, ...] = ("promote",)) -> Case:
    return Case(id, stack, ((key, value),), command, expected)


CONFIG_CASES = [
    # Durations with a documented maximum (an OverflowError before, on every command).
    case("bake-9999999999d", "dev", "analysis", "{bake: 9999999999d}", "stagewise:analysis.bake", "365d"),
    case("stage-bake-overflow", "dev", "analysis", "{timeout: 1000000d}", "'1000000d' is longer than the 365d"),
    case("query-timeout-10m", "dev", "analysis", "{timeout: 10m}", "timeout (10m) must be between 1s and 5m"),
    # Booleans are not numbers; numbers are finite.
    case("ratio-true", "dev", "analysis", "{errorRateRatio: true}", "analysis.errorRateRatio", "got true"),
    case("port-true", "dev", "port", "true", "stagewise:port: must be a whole number, got true"),
    case("protect-yes", "dev", "protect", "'yes'", "stagewise:protect: must be true or false, got 'yes'"),
    case("latency-inf", "local", "analysis", "{latencyP95AbortMs: .inf}", "latencyP95AbortMs", "finite"),
    case("bound-inf", "local", "analysis", "{latencyBoundsMs: [5, .inf]}", "latencyBoundsMs", "finite"),
    case(
        "20000-bounds",
        "local",
        "analysis",
        "{latencyBoundsMs: [" + ", ".join(str(5 + i) for i in range(20000)) + "]}",
        "latencyBoundsMs: holds 20000 bounds; at most 100",
    ),
    case("url-space", "local", "analysis", "{url: 'http://prom:9090/a b'}", "analysis.url", "without spaces"),
    case(
        "url-credentials-hidden",
        "local",
        "analysis",
        "{url: 'http://ci:hunter2@prom:9090/a b'}",
        "http://***@prom:9090/a b",
    ),
    # What Azure or the API server would refuse later.
    *(
        case(
            f"address-space-{space}",
            "production",
            "regions",
            f"[{{name: westeurope, weight: 60, addressSpace: '{space}'}}, {{name: northeurope, weight: 40}}]",
            f"regions[0].addressSpace: '{space}' overlaps",
            "private range",
        )
        for space in ("224.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8", "168.63.0.0/16")
    ),
    *(
        case(
            f"node-selector-{i}",
            "local",
            "kubernetes",
            f"{{app: demo, hostname: demo.stagewise.localhost, nodeSelector: {selector}}}",
            "stagewise:kubernetes.nodeSelector",
            "is not a Kubernetes label",
        )
        for i, selector in enumerate(["{'bad key!': real}", "{'': real}", "{k: " + "v" * 64 + "}"])
    ),
    # Keys that mean nothing on the stack's platform.
    case("node-selector-on-dev", "dev", "kubernetes", "{nodeSelector: {a: b}}", "the dev stack runs on Azure"),
    case("create-acr-on-local", "local", "registry", "{createAcr: true}", "registry.createAcr: the local stack"),
    case(
        "address-space-on-dev",
        "dev",
        "regions",
        "[{name: westeurope, weight: 100, addressSpace: 10.9.0.0/16}]",
        "the dev stack builds no virtual network",
    ),
    # Compared after coercion: a real difference is still named.
    Case(
        "ports-differ",
        "local",
        (("port", "8080"), ("kubernetes", "{app: demo, hostname: demo.stagewise.localhost, port: '8081'}")),
        ("promote",),
        ("kubernetes.port (8081) differs from port (8080)",),
    ),
]

WATCH_CASES = [
    Case("watch-timeout-overflow", "local", (), ("watch", "--timeout", "99999999999d"), ("--timeout", "365d")),
    Case("watch-interval-garbage", "local", (), ("watch", "--interval", "soon"), ("--interval", "not a duration")),
]


def _check_refused(repo, c: Case) -> None:
    path = repo.file(c.stack)
    text = path.read_text()
    for key, value in c.edits:
        text = with_config(text, key, value)
    path.write_text(text)
    before = path.read_bytes()
    result = repo.run(*c.command, "--stack", c.stack)
    output = result.output
    assert result.exit_code == 1, output
    assert "Traceback" not in output and "a bug in stagewise" not in output, output
    for fragment in c.expected:
        assert fragment in output, output
    assert path.read_bytes() == before


@pytest.mark.parametrize("c", CONFIG_CASES + WATCH_CASES, ids=lambda c: c.id)
def test_every_bad_config_value_is_one_message_and_nothing_written(repo, c: Case):
    _check_refused(repo, c)


# --- replay files ----------------------------------------------------------------------------------


def _example_with(change: Callable[[dict], None]) -> bytes:
    data = copy.deepcopy(EXAMPLE)
    change(data)
    return json.dumps(data).encode()


def _set(path: tuple, value) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


SAMPLE = ("rollouts", 0, "samples", 0)

REPLAY_FILES: list[tuple[str, bytes, tuple[str, ...]]] = [
    (
        "400-digit-count",
        _example_with(_set((*SAMPLE, "live", "requests"), 10**400)),
        ("live.requests", "is not a number from 0 to"),
    ),
    ("5000-digit-count", b'{"step": ' + b"9" * 5000 + b"}", ("not a recording", "digits")),
    ("nested-100000", b"[" * 100_000 + b"]" * 100_000, ("nested more deeply",)),
    ("latin-1", '{"step": 60, "bounds": [1], "rollouts": [{"name": "café"}]}'.encode("latin-1"), ("not UTF-8",)),
    ("step-1e14", _example_with(_set(("step",), 1e14)), ("step: 100000000000000.0", "from 0 to 31536000")),
    ("t-1e300", _example_with(_set((*SAMPLE, "t"), 1e300)), (": t:", "from 0 to")),
    (
        "nan-count",
        _example_with(_set((*SAMPLE, "live", "errors"), float("nan"))),
        ("live.errors", "nan is not a number"),
    ),
]


def _refused_replay(repo, path: str, expected: tuple[str, ...], stdin: bytes | None = None) -> None:
    before = repo.read("dev")
    result = repo.run_input(stdin, "replay", path, "--stack", "dev") if stdin is not None else None
    if result is None:
        result = repo.run("replay", path, "--stack", "dev")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "a bug in stagewise" not in result.output, result.output
    for fragment in expected:
        assert fragment in result.output, result.output
    assert repo.read("dev") == before


@pytest.mark.parametrize("name, content, expected", REPLAY_FILES, ids=[f[0] for f in REPLAY_FILES])
def test_a_bad_recording_is_one_message(repo, name, content, expected):
    path = repo.path / "recorded.json"
    path.write_bytes(content)
    _refused_replay(repo, str(path), expected)


def test_a_recording_above_the_size_cap_is_refused_unread(repo):
    path = repo.path / "huge.json"
    with path.open("wb") as file:  # sparse: nothing is written to disk
        file.truncate(64 * 1024 * 1024 + 1)
    _refused_replay(repo, str(path), ("larger than the 64 MiB",))


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_devices_are_refused(repo, device):
    _refused_replay(repo, device, ("is a device, not a regular file", "- for standard input"))


def test_a_fifo_is_refused_not_waited_on(repo):
    fifo = repo.path / "pipe.json"
    os.mkfifo(fifo)
    _refused_replay(repo, str(fifo), ("is a FIFO, not a regular file",))


def test_a_directory_and_a_missing_file_are_refused(repo):
    _refused_replay(repo, str(repo.path), ("is a directory",))
    _refused_replay(repo, str(repo.path / "missing.json"), ("cannot read: No such file or directory",))


def test_dash_reads_standard_input(repo):
    result = repo.run_input(json.dumps(EXAMPLE).encode(), "replay", "-", "--stack", "dev", "--json")
    assert result.exit_code == 0, result.output
    assert [r["name"] for r in json.loads(result.stdout)["rollouts"]] == ["r1"]
    _refused_replay(repo, "-", ("standard input: not JSON",), stdin=b"{")


@pytest.mark.parametrize("name", ["[/bold]", "[bold red]x[/]", "\x1b[2J\x1b[Hcleared", "bell\x07", "rtl\u202eoverride"])
def test_rollout_names_reach_the_terminal_escaped(repo, name):
    data = _example_with(_set(("rollouts", 0, "name"), name))
    path = repo.path / "recorded.json"
    path.write_bytes(data)
    result = repo.run("replay", str(path), "--stack", "dev")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert not any(not c.isprintable() and c != "\n" for c in result.stdout), repr(result.stdout)
    if name.startswith("["):
        assert name in result.stdout  # shown as written, not taken as markup


# --- production guards, however the edits are split ---------------------------------------------


def test_a_second_promote_before_a_commit_is_refused_on_production(repo):
    repo.set_release("production", stage="quarter", blue="1.4.2", green="1.5.0", live="blue")
    repo.commit("production at quarter")
    assert repo.run("promote", "--stack", "production").exit_code == 0
    before = repo.read("production")
    second = repo.run("promote", "--stack", "production")
    assert second.exit_code == 1 and "Traceback" not in second.output
    assert "the committed stage is 'quarter' (git HEAD) and 'full' would skip half in one commit" in second.output
    assert repo.read("production") == before
    assert repo.run("promote", "--stack", "production", "--force").exit_code == 0


def test_a_promote_after_abort_asks_for_a_deploy_first(repo):
    repo.set_release("production", stage="canary", blue="1.4.2", green="1.5.0", live="blue")
    assert repo.run("abort", "--stack", "production").exit_code == 0
    before = repo.read("production")
    result = repo.run("promote", "--stack", "production")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "the candidate green runs 1.4.2, the version blue runs live" in result.output
    assert "run `stagewise deploy <new version>` first" in result.output
    assert repo.read("production") == before


def test_an_anchor_on_the_stage_is_refused_with_the_line_it_would_rewrite(repo):
    path = repo.file("dev")
    path.write_text(
        path.read_text()
        .replace("    stage: idle\n", "    stage: &s idle\n")
        .replace("  stagewise:owner: platform-team\n", "")
        .replace("  stagewise:featureFlags:\n", "  stagewise:owner: *s\n  stagewise:featureFlags:\n")
    )
    before = repo.read("dev")
    result = repo.run("deploy", "2.0.0", "--stack", "dev")
    assert result.exit_code == 0, result.output  # deploy writes green only: no tie to the anchor
    after = repo.read("dev")
    result = repo.run("promote", "--stack", "dev")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        "Pulumi.dev.yaml: editing stagewise:release would rewrite line" in result.output
        and "('stagewise:owner: *s')" in result.output
    )
    assert repo.read("dev") == after != before


def test_a_second_yaml_document_is_read_and_kept_as_the_engine_does(repo):
    path = repo.file("local")
    path.write_text(path.read_text() + "---\nanother: document\n")
    assert repo.run("status", "--stack", "local").exit_code == 0
    before = path.read_text()
    result = repo.run("promote", "--stack", "local")
    assert result.exit_code == 0, result.output
    assert path.read_text() == before.replace("    stage: canary\n", "    stage: early\n")


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda p: p.write_bytes(p.read_bytes() + b"  stagewise:owner: caf\xe9\n"), "is not UTF-8 text"),
        (lambda p: (p.unlink(), p.symlink_to("/dev/zero")), "is a character device, not a stack file"),
        (lambda p: (p.unlink(), os.mkfifo(p)), "is a named pipe (FIFO), not a stack file"),
    ],
    ids=["latin-1", "dev-zero", "fifo"],
)
@pytest.mark.parametrize("command", ["status", "promote"])
def test_a_stack_file_that_is_no_text_file_is_one_message(repo, make, expected, command):
    make(repo.file("dev"))
    result = repo.run(command, "--stack", "dev")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"Pulumi.dev.yaml {expected}" in result.output, result.output
