"""`stagewise report` over a scripted rollout history in a temporary git repository."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from PIL import Image

from stagewise.tools.report import chart
from tests.cli import report_history as scripted


def set_analysis(repo, lines: str) -> None:
    path = repo.file(scripted.STACK)
    anchor = "  stagewise:costCentre: cc-4200\n"
    assert anchor in path.read_text()
    path.write_text(path.read_text().replace(anchor, f"{anchor}  stagewise:analysis:\n{lines}"))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def played(repo, monkeypatch):
    # Metrics from a Prometheus that is not there: tests/report has the real one.
    set_analysis(repo, f"    url: http://127.0.0.1:{closed_port()}\n")
    return scripted.play(repo, monkeypatch)


def report_json(repo, *args: str) -> dict:
    result = repo.run("report", "--stack", scripted.STACK, "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def iso(at) -> str:
    return at.isoformat().replace("+00:00", "Z")


def when(at) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def expected_stages(first: int, last: int) -> list[tuple[str, int, float, str, int]]:
    """(stage, share, hours, author, pull request) of the steps first..last-1, from the script."""
    names = {"deploy": "idle"}
    stages, shares = ["idle", "canary", "early", "half", "full"], [0, 10, 20, 50, 100]
    times, found, position = scripted.times(), [], 0
    for index in range(first, last):
        step = scripted.STEPS[index]
        position = 0 if step.command[0] in names else position + 1
        duration = (times[index + 1] - times[index]).total_seconds() / 3600
        number = int(step.message.split("#")[1].split(")")[0].split(" ")[0])
        found.append((stages[position], shares[position], duration, step.author, number))
    return found


def test_latest_is_the_finished_redeploy_with_every_stage_as_committed(repo, played):
    report = report_json(repo)
    times = scripted.times()
    assert report["rollout"] | {"startedBy": None, "endedBy": None} == {
        "version": "2.0.1",
        "candidate": "blue",
        "live": "green",
        "baseline": "1.5.0",
        "outcome": "finished",
        "start": iso(times[5]),
        "end": iso(times[10]),
        "durationSeconds": (times[10] - times[5]).total_seconds(),
        "startedBy": None,
        "endedBy": None,
    }
    assert report["rollout"]["endedBy"]["sha"] == played[10]
    assert report["rollout"]["endedBy"]["pullRequest"] == 51
    got = [
        (s["stage"], s["share"], s["durationSeconds"] / 3600, s["commit"]["author"], s["commit"]["pullRequest"])
        for s in report["stages"]
    ]
    assert got == expected_stages(5, 10)
    assert [s["commit"]["sha"] for s in report["stages"]] == played[5:10]
    assert report["stages"][2]["traffic"] == {"blue": 20, "green": 80}
    assert report["incidents"] == []
    assert report["previous"]["version"] == "2.0.0" and report["previous"]["outcome"] == "aborted"


def test_the_aborted_rollout_lists_the_gate_abort_with_its_numbers(repo, played):
    report = report_json(repo, "--rollout", "2.0.0")
    assert report["rollout"]["outcome"] == "aborted"
    assert report["rollout"]["end"] == iso(scripted.times()[4])
    got = [
        (s["stage"], s["share"], s["durationSeconds"] / 3600, s["commit"]["author"], s["commit"]["pullRequest"])
        for s in report["stages"]
    ]
    assert got == expected_stages(0, 4)
    (incident,) = report["incidents"]
    assert incident["kind"] == "abort" and incident["byBot"] is True
    assert (incident["from"], incident["to"]) == ({"stage": "half", "share": 50}, {"stage": "idle", "share": 0})
    assert incident["reason"] == scripted.ABORT_MESSAGE
    assert incident["commit"] == report["rollout"]["endedBy"]
    assert incident["gateVerdict"] == report["stages"][-1]["gateVerdict"] == "abort"
    assert report["stages"][-1]["endedBy"] == incident["commit"]
    assert [s["gateVerdict"] for s in report["stages"][:-1]] == [None, None, None]


@pytest.mark.parametrize(
    "which, version",
    [
        ("latest", "2.0.1"),
        ("HEAD", "2.0.1"),
        ("HEAD~6", "2.0.0"),
        ("HEAD~11", "1.5.0"),
    ],
)
def test_rollout_by_revision(repo, played, which, version):
    assert report_json(repo, "--rollout", which)["rollout"]["version"] == version


def test_rollout_by_the_sha_of_its_abort(repo, played):
    assert report_json(repo, "--rollout", played[4][:10])["rollout"]["version"] == "2.0.0"


def test_a_version_wins_over_a_release_tag_of_the_same_name(repo, played):
    repo.git("tag", "2.0.0", played[10])  # the tag is on the finish of 2.0.1
    assert report_json(repo, "--rollout", "2.0.0")["rollout"]["version"] == "2.0.0"


def test_a_revision_before_any_rollout_is_refused(repo):
    assert repo.run("deploy", "2.0.0", "--stack", "dev").exit_code == 0  # dev starts at idle, one version
    repo.commit("dev: deploy 2.0.0")
    result = repo.run("report", "--stack", "dev", "--rollout", "HEAD~1")
    assert result.exit_code == 1
    assert "no rollout of Pulumi.dev.yaml had begun at HEAD~1" in result.stderr


def test_a_pull_request_merged_with_a_merge_commit_counts_from_its_merge(repo, monkeypatch):
    scripted.play(repo, monkeypatch, scripted.STEPS[:2])
    written, merged = scripted.times()[1] + timedelta(hours=1), scripted.times()[1] + timedelta(hours=3)
    repo.git("switch", "-q", "-c", "promote-early")
    assert repo.run("promote", "--stack", scripted.STACK).exit_code == 0
    monkeypatch.setenv("GIT_AUTHOR_DATE", written.isoformat())
    monkeypatch.setenv("GIT_COMMITTER_DATE", written.isoformat())
    repo.commit("local: promote to early", author="Carol Example")
    repo.git("switch", "-q", "main")
    monkeypatch.setenv("GIT_AUTHOR_DATE", merged.isoformat())
    monkeypatch.setenv("GIT_COMMITTER_DATE", merged.isoformat())
    repo.git("merge", "-q", "--no-ff", "promote-early", "-m", "Merge pull request #77 from team/promote-early")
    early = report_json(repo)["stages"][-1]
    assert (early["stage"], early["start"], early["commit"]["pullRequest"]) == ("early", iso(merged), 77)
    assert early["commit"]["sha"] == repo.git("rev-parse", "HEAD").strip()
    assert report_json(repo, "--rollout", "HEAD^2")["rollout"]["version"] == "2.0.0"


def test_a_rollout_under_way_ends_now(repo, monkeypatch):
    scripted.play(repo, monkeypatch, scripted.STEPS[:3])
    report = report_json(repo)
    assert report["rollout"]["outcome"] == "in progress" and report["rollout"]["end"] is None
    assert [(s["stage"], s["open"]) for s in report["stages"]] == [("idle", False), ("canary", False), ("early", True)]


def test_without_metrics_the_timeline_is_there_and_says_why(repo, played):
    report = report_json(repo)
    assert report["metrics"]["available"] is False
    assert report["metrics"]["missing"].endswith("is unreachable: connection refused")
    assert all(s["metrics"] is None for s in report["stages"])
    markdown = repo.run("report", "--stack", scripted.STACK).stdout
    assert f"No metrics: {report['metrics']['missing']}" in markdown
    early = scripted.times()[7:9]
    assert f"| early | 20 % | {when(early[0])} | {when(early[1])} | 1 h 30 min |" in markdown


def test_a_stack_config_the_program_refuses_leaves_no_provider_and_says_why(repo, monkeypatch):
    scripted.play(repo, monkeypatch)
    set_analysis(repo, "    provider: graphite\n")  # in the working tree, after the rollout
    report = report_json(repo)
    assert [s["stage"] for s in report["stages"]] == ["idle", "canary", "early", "half", "full"]
    assert report["metrics"]["missing"].startswith("the config of local is invalid (")
    assert "graphite" in report["metrics"]["missing"]


def test_markdown_names_each_incident_with_its_reason(repo, played):
    markdown = repo.run("report", "--stack", scripted.STACK, "--rollout", "2.0.0").stdout
    assert f"1. **abort** at {when(scripted.times()[4])}: half (50 %) to idle (0 %)" in markdown
    assert "(automated)" in markdown
    assert "   > fail: candidate error rate (HTTP 5xx), percent 8 (limit 5)" in markdown
    assert "**aborted: 1.5.0 stayed live on green**" in markdown


def test_out_writes_markdown_chart_and_data(repo, played, tmp_path):
    out = tmp_path / "report"
    result = repo.run("report", "--stack", scripted.STACK, "--rollout", "2.0.0", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["report.json", "report.md", "report.png", "report.svg"]
    with Image.open(out / "report.png") as image:
        image.load()
        assert (image.format, image.size) == ("PNG", chart.SIZE)
    svg = ElementTree.parse(out / "report.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert "![Traffic per colour" in (out / "report.md").read_text()
    assert json.loads((out / "report.json").read_text())["rollout"]["version"] == "2.0.0"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--stack", "nope"], "unknown stack 'nope'"),
        (["--stack", "dev"], "no rollout in the history of Pulumi.dev.yaml"),
        (
            ["--stack", "local", "--rollout", "7.7.7"],
            "--rollout '7.7.7' is neither a version rolled out in Pulumi.local.yaml nor a git revision",
        ),
    ],
)
def test_refusals_name_what_is_wrong(repo, played, args, message):
    result = repo.run("report", *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_out_on_a_file_is_refused_and_nothing_is_written(repo, played, tmp_path):
    target = tmp_path / "taken"
    target.write_text("keep")
    result = repo.run("report", "--stack", scripted.STACK, "--out", str(target))
    assert result.exit_code == 1 and "is a file, not a folder" in result.stderr
    assert target.read_text() == "keep"


def test_scripted_times_are_what_git_holds(repo, played):
    dates = repo.git("log", "--format=%cI", "-n", str(len(played))).split()
    assert dates[::-1] == [t.isoformat() for t in scripted.times()]
    assert scripted.times()[1] - scripted.times()[0] == timedelta(minutes=30)
