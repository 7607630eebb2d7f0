"""The GitHub workflows: they lint clean, every stack file is previewed and deployed (or, for the
local cluster, planned), and the scripts they run behave."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
SCRIPTS = ROOT / ".github" / "scripts"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))


def script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


changed_stacks = script("changed_stacks")
pr_comment = script("pr_comment")


def workflow(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the `on:` key as the boolean True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def stack_files() -> dict[str, Path]:
    """Every Pulumi.<stack>.yaml in the repository, found now: new stacks are covered automatically."""
    return {p.name[len("Pulumi.") : -len(".yaml")]: p for p in ROOT.glob("Pulumi.*.yaml")}


def github_glob(pattern: str) -> re.Pattern[str]:
    """GitHub's `paths` filter syntax: `*` stays within a folder, `**` crosses folders."""
    regex = ""
    for token in re.split(r"(\*\*|\*|\?)", pattern):
        regex += {"**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
    return re.compile(regex)


# --- actionlint -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def actionlint() -> str:
    # Built from its Go module and cached outside the repository by the script. `make test` builds it
    # and never skips; `make check` builds no Go binary, so there it skips, saying why, until it is built.
    if os.environ.get("STAGEWISE_LANE") == "check":
        cached = subprocess.run(
            [str(ROOT / "scripts" / "actionlint.sh"), "--cached"], capture_output=True, text=True, timeout=60
        )
        if cached.returncode != 0:
            pytest.skip(f"make check builds no Go binary: {cached.stderr.strip()} (make test builds it)")
    result = subprocess.run([str(ROOT / "scripts" / "actionlint.sh")], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    binary = result.stdout.strip()
    assert Path(binary).is_file(), result.stdout
    return binary


def test_there_are_the_four_workflows():
    assert {p.name for p in WORKFLOW_FILES} == {"preview.yml", "up.yml", "rollback.yml", "gate.yml"}


def test_workflows_pass_actionlint(actionlint):
    result = subprocess.run(
        [actionlint, "-no-color", *map(str, WORKFLOW_FILES)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(actionlint, tmp_path):
    # The check above means something only if the linter reports errors; this one has two
    # (an unknown input of the local action and a misspelt context).
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    shutil.copytree(ROOT / ".github" / "actions", tmp_path / ".github" / "actions")
    # actionlint reads local actions relative to the repository root, which it finds by .git.
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    broken.write_text(
        "on: push\n"
        "jobs:\n"
        "  x:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - uses: ./.github/actions/stagewise-env\n"
        "        with:\n"
        "          stak: dev\n"
        "      - run: echo ${{ matrx.stack }}\n"
    )
    result = subprocess.run([actionlint, "-no-color", str(broken)], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    assert '"stak"' in result.stdout and "matrx" in result.stdout


# --- every stack file is covered ------------------------------------------------------------------


def test_the_detector_sees_every_stack_file():
    assert set(changed_stacks.stacks(ROOT)) == set(stack_files())


@pytest.mark.parametrize("stack", sorted(stack_files()))
def test_a_change_to_a_stack_file_selects_that_stack_for_preview_and_up(stack):
    known = changed_stacks.stacks(ROOT)
    out = changed_stacks.outputs(changed_stacks.affected([f"Pulumi.{stack}.yaml"], known), known)
    if known[stack] == "local":
        assert out["local"] == [stack] and out["azure"] == []
    else:
        assert out["azure"] == [stack]
        assert stack in out["nonproduction"] + out["production"]
    assert out["all"] == [stack]


@pytest.mark.parametrize("name", ["preview.yml", "up.yml"])
@pytest.mark.parametrize("stack", sorted(stack_files()))
def test_workflow_paths_filter_lets_every_stack_file_through(name, stack):
    event = "pull_request" if name == "preview.yml" else "push"
    patterns = workflow(name)["on"][event]["paths"]
    assert any(github_glob(p).fullmatch(f"Pulumi.{stack}.yaml") for p in patterns)


@pytest.mark.parametrize(("name", "event"), [("preview.yml", "pull_request"), ("up.yml", "push")])
def test_workflow_paths_filter_is_the_detector_shared_code_plus_stack_files(name, event):
    patterns = set(workflow(name)["on"][event]["paths"])
    expected = {f"{c}**" if c.endswith("/") else c for c in changed_stacks.SHARED_CODE} | {"Pulumi.*.yaml"}
    assert patterns == expected


@pytest.mark.parametrize(
    "path",
    [
        "components/traffic_split.py",
        "infra/azure.py",
        "stagewise/core/rollout.py",
        "policy/keyvault.py",
        "Pulumi.yaml",
        "pyproject.toml",
    ],
)
def test_a_code_change_selects_every_stack(path):
    known = {"dev": "dev", "staging": "staging", "production": "production", "local": "local"}
    assert changed_stacks.affected([path], known) == list(known)


@pytest.mark.parametrize(
    "path",
    ["README.md", "docs/policy-and-workflows.md", "tests/unit/test_config.py", "Pulumi.deleted.yaml", "infra.md"],
)
def test_other_changes_select_no_stack(path):
    assert changed_stacks.affected([path], {"dev": "dev", "production": "production"}) == []


def test_stacks_are_classified_by_their_environment(tmp_path):
    for stack, env in [("dev", "dev"), ("qa", "staging"), ("prod-eu", "production"), ("local", "local")]:
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(f"config:\n  stagewise:environment: {env}\n")
    (tmp_path / "Pulumi.odd.yaml").write_text("config:\n  stagewise:owner: someone\n")
    known = changed_stacks.stacks(tmp_path)
    assert changed_stacks.outputs(list(known), known) == {
        "azure": ["dev", "qa", "prod-eu", "odd"],
        "nonproduction": ["dev", "qa"],
        # Without a known environment a stack is deployed like production: only with an approval.
        "production": ["prod-eu", "odd"],
        "local": ["local"],
        "all": ["dev", "qa", "prod-eu", "odd", "local"],
    }


def test_an_unusable_base_commit_means_every_stack():
    assert changed_stacks.changed_files("0" * 40, "HEAD") is None
    assert changed_stacks.changed_files("not-a-commit", "HEAD") is None


def test_detector_prints_github_outputs(capsys):
    assert changed_stacks.main(["--all"]) == 0
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert set(lines) == {"azure", "nonproduction", "production", "local", "all"}
    assert sorted(json.loads(lines["all"])) == sorted(stack_files())


def test_detector_is_what_the_workflows_run():
    for name, outputs in [("preview.yml", {"azure", "local", "all"}), ("up.yml", {"nonproduction", "production"})]:
        detect = workflow(name)["jobs"]["detect"]
        assert any(".github/scripts/changed_stacks.py" in step.get("run", "") for step in detect["steps"])
        assert set(detect["outputs"]) == outputs


def test_preview_runs_each_azure_stack_and_plans_each_local_one():
    jobs = workflow("preview.yml")["jobs"]
    assert jobs["preview"]["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.detect.outputs.azure) }}"
    assert jobs["plan-local"]["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.detect.outputs.local) }}"
    run = "\n".join(step.get("run", "") for step in jobs["preview"]["steps"])
    assert 'stagewise plan --stack "$STACK" --markdown' in run
    assert 'pulumi preview --stack "$STACK" --diff --policy-pack policy' in run
    assert "pulumi preview" not in "\n".join(step.get("run", "") for step in jobs["plan-local"]["steps"])


@pytest.mark.parametrize("job", ["preview", "plan-local"])
def test_plan_compares_the_pr_with_its_base(job):
    # `stagewise plan` compares --against (default HEAD) with the working tree; in CI the working
    # tree is HEAD, so without --against every plan would say "no changes".
    spec = workflow("preview.yml")["jobs"][job]
    assert spec["env"]["BASE"] == "HEAD^1"  # the first parent of GitHub's test merge commit
    [checkout] = [s for s in spec["steps"] if s.get("uses", "").startswith("actions/checkout")]
    assert checkout["with"]["fetch-depth"] >= 2
    assert '--against "$BASE"' in "\n".join(step.get("run", "") for step in spec["steps"])


def test_up_deploys_nonproduction_first_then_production_behind_its_environment():
    jobs = workflow("up.yml")["jobs"]
    assert jobs["up"]["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.detect.outputs.nonproduction) }}"
    production = jobs["up-production"]
    assert production["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.detect.outputs.production) }}"
    assert production["environment"] == "production"
    assert "up" in production["needs"]
    for job in (jobs["up"], production):
        run = "\n".join(step.get("run", "") for step in job["steps"])
        assert 'pulumi up --stack "$STACK" --yes' in run and "--policy-pack policy" in run


def test_rollback_offers_every_azure_stack():
    known = changed_stacks.stacks(ROOT)
    options = workflow("rollback.yml")["on"]["workflow_dispatch"]["inputs"]["stack"]["options"]
    assert set(options) == {s for s, env in known.items() if env != "local"}


def test_rollback_inputs():
    inputs = workflow("rollback.yml")["on"]["workflow_dispatch"]["inputs"]
    assert inputs["stack"]["type"] == "choice"
    assert inputs["mode"]["options"] == ["pr", "direct"]
    assert inputs["method"]["options"] == ["abort", "revert"]


def test_rollback_aborts_or_reverts_then_deploys():
    [job] = workflow("rollback.yml")["jobs"].values()
    run = "\n".join(step.get("run", "") for step in job["steps"])
    assert 'stagewise abort --stack "$STACK"' in run
    assert ".github/scripts/last_stage_commit.py" in run
    assert run.index("git push") < run.index("pulumi up")


# --- deployment safety and credentials ------------------------------------------------------------


def deploying_jobs() -> list[tuple[str, dict]]:
    jobs = [("up.yml", j) for j in workflow("up.yml")["jobs"].values() if j.get("environment")]
    return (
        jobs
        + [("rollback.yml", j) for j in workflow("rollback.yml")["jobs"].values()]
        + [("gate.yml", workflow("gate.yml")["jobs"]["act"])]
    )


def test_deployments_are_serialised_per_stack_and_never_cancelled():
    groups = set()
    for _, job in deploying_jobs():
        assert job["concurrency"]["cancel-in-progress"] is False
        groups.add(job["concurrency"]["group"])
    assert groups == {"pulumi-${{ matrix.stack }}", "pulumi-${{ inputs.stack }}"}


def test_jobs_that_reach_azure_use_oidc():
    for name in ("preview.yml", "up.yml", "rollback.yml", "gate.yml"):
        for job in workflow(name)["jobs"].values():
            uses_azure = any(step.get("with", {}).get("azure-client-id") for step in job["steps"])
            if uses_azure:
                assert job["permissions"]["id-token"] == "write"
                assert job["env"]["ARM_USE_OIDC"] == "true"
                [setup] = [s for s in job["steps"] if s.get("uses") == "./.github/actions/stagewise-env"]
                assert {k: v for k, v in setup["with"].items() if k.startswith("azure-")} == {
                    "azure-client-id": "${{ vars.AZURE_CLIENT_ID }}",
                    "azure-tenant-id": "${{ vars.AZURE_TENANT_ID }}",
                    "azure-subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
                }


def test_only_deployments_create_a_missing_stack():
    # A preview only reads the backend (its identity can be read-only); a new stack is created
    # by its author, who needs it to set secrets, or else by its first deployment.
    def creates(name: str, job: str) -> bool:
        [setup] = [
            s for s in workflow(name)["jobs"][job]["steps"] if s.get("uses") == "./.github/actions/stagewise-env"
        ]
        return setup["with"].get("create-stack") == "true"

    assert not creates("preview.yml", "preview")
    assert creates("up.yml", "up") and creates("up.yml", "up-production")


def test_no_long_lived_secrets():
    for path in [*WORKFLOW_FILES, ROOT / ".github" / "actions" / "stagewise-env" / "action.yml"]:
        expressions = re.findall(r"\$\{\{(.*?)\}\}", path.read_text())
        assert not [e for e in expressions if re.search(r"\bsecrets\b", e)], path.name


def test_state_backend_and_secrets_provider_come_from_repository_variables():
    for name in ("preview.yml", "up.yml", "rollback.yml", "gate.yml"):
        for job in workflow(name)["jobs"].values():
            if "PULUMI_BACKEND_URL" in job.get("env", {}):
                assert job["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
                assert job["env"]["PULUMI_SECRETS_PROVIDER"] == "${{ vars.PULUMI_SECRETS_PROVIDER }}"


def test_setup_pins_the_pulumi_cli_to_the_sdk_version():
    action = yaml.safe_load((ROOT / ".github" / "actions" / "stagewise-env" / "action.yml").read_text())
    pinned = re.search(r'"pulumi==([\d.]+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert action["inputs"]["pulumi-version"]["default"] == pinned


# --- the PR comment -------------------------------------------------------------------------------


def test_comment_starts_with_the_marker_it_is_found_by():
    body = pr_comment.assemble(["### `dev`: ready\n"], "0123456789abcdef", "https://run")
    assert body.startswith(pr_comment.MARKER + "\n")


def test_comment_step_looks_the_comment_up_by_its_marker():
    [step] = [s for s in workflow("preview.yml")["jobs"]["comment"]["steps"] if "gh api" in s.get("run", "")]
    assert "pr_comment.py marker" in step["run"]
    assert "--method PATCH" in step["run"] and "--method POST" in step["run"]


def test_section_has_plan_and_preview():
    text = pr_comment.section("production", "**canary** 5 %", 0, "+ 2 to update", 0)
    assert text.startswith("### `production`: ready")
    assert "**canary** 5 %" in text and "+ 2 to update" in text


def test_plan_with_changes_is_not_a_failure():
    # `stagewise plan` exits 2 when the stack changes, which is what a pull request is for.
    assert pr_comment.section("dev", "plan", 2, "ok", 0).startswith("### `dev`: ready")


def test_failed_plan_shows_its_error():
    text = pr_comment.section("dev", "error: unknown stage 'canry'", 1, "ok", 0)
    assert text.startswith("### `dev`: failed") and "`stagewise plan` failed (exit 1)" in text


def test_failed_preview_is_marked_and_opened():
    text = pr_comment.section("production", "plan", 0, "error: policy violated", 255)
    assert text.startswith("### `production`: failed")
    assert "<details open>" in text and "exit 255" in text


def test_local_stack_section_says_it_was_not_previewed():
    assert "Not previewed" in pr_comment.section("local", "plan", 0, None, None)


def test_output_with_backticks_cannot_close_the_fence():
    text = pr_comment.section("dev", "plan", 0, "a ``` b ```` c", 0)
    assert "`````diff" in text


def test_comment_stays_under_githubs_limit_with_huge_previews():
    sections = [pr_comment.section(s, "plan", 0, "x" * 200_000, 0) for s in ("dev", "staging", "production")]
    body = pr_comment.assemble(sections, "0123456789abcdef", "https://run")
    assert len(body) <= pr_comment.COMMENT_LIMIT
    assert body.count("characters cut") == 3


def test_stack_without_a_section_is_reported(tmp_path, capsys):
    (tmp_path / "dev.md").write_text("### `dev`: ready\n")
    pr_comment.main(
        [
            "assemble",
            "--sections",
            str(tmp_path),
            "--stacks",
            '["dev", "production"]',
            "--sha",
            "0123456789abcdef",
            "--run-url",
            "https://run",
        ]
    )
    body = capsys.readouterr().out
    assert body.index("### `dev`: ready") < body.index("### `production`: no result")


# --- rollback by revert ---------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def stack_file(stage: str, flags: str = "false", green: str = "1.5.0") -> str:
    return (
        "config:\n"
        "  stagewise:environment: production\n"
        "  stagewise:release:\n"
        "    image: demo\n"
        "    blue: 1.4.2\n"
        f"    green: {green}\n"
        "    live: blue\n"
        f"    stage: {stage}\n"
        "  stagewise:featureFlags:\n"
        f"    new-checkout: {flags}\n"
    )


def test_last_stage_commit_skips_commits_that_did_not_change_the_release(tmp_path):
    repo = tmp_path
    git(repo, "init", "--quiet", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    path = repo / "Pulumi.production.yaml"

    def commit(text: str, message: str) -> str:
        path.write_text(text)
        git(repo, "add", path.name)
        git(repo, "commit", "--quiet", "-m", message)
        return git(repo, "rev-parse", "HEAD")

    commit(stack_file("idle"), "create")
    commit(stack_file("canary"), "promote to canary")
    promote = commit(stack_file("quarter"), "promote to quarter")
    commit(stack_file("quarter", flags="true"), "turn a flag on")

    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "last_stage_commit.py"), path.name], cwd=repo, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == promote


def test_last_stage_commit_fails_when_the_release_never_changed(tmp_path):
    repo = tmp_path
    git(repo, "init", "--quiet", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    (repo / "Pulumi.dev.yaml").write_text(stack_file("idle"))
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "create")
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "last_stage_commit.py"), "Pulumi.dev.yaml"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "nothing to revert" in result.stderr


# --- the stage gate -------------------------------------------------------------------------------

gate_report = script("gate_report")

ANALYSIS = {
    "schema": "stagewise.analysis/v1",
    "verdict": "abort",
    "reason": "limit broken: error_rate 9.8 > 5",
    "holdReason": None,
    "stack": "staging",
    "environment": "staging",
    "autoPromote": False,
    "at": "2026-11-22T12:00:00Z",
    "window": {"start": "2026-11-22T10:00:00Z", "end": "2026-11-22T12:00:00Z"},
    "stage": {
        "name": "canary",
        "weight": 10,
        "next": "early",
        "commit": "0123456789abcdef0123",
        "since": "2026-11-22T10:00:00Z",
        "bake": "24h",
        "minRequests": 100,
    },
    "provider": "appinsights /subscriptions/x",
    "versions": {
        "candidate": {
            "colour": "green",
            "version": "1.5.0",
            "requests": 7200.0,
            "errors": 706.0,
            "errorRate": 9.8,
            "p95Ms": 80.0,
        },
        "live": {
            "colour": "blue",
            "version": "1.4.2",
            "requests": 36000.0,
            "errors": 72.0,
            "errorRate": 0.2,
            "p95Ms": 78.0,
        },
    },
    "checks": [
        {
            "name": "error_rate",
            "description": "candidate error rate (HTTP 5xx), percent",
            "value": 9.8,
            "limit": 5.0,
            "status": "fail",
            "pValue": None,
            "note": "",
        },
        {
            "name": "error_rate_vs_live",
            "description": "error rate increase over live, percentage points",
            "value": 9.6,
            "limit": 5.0,
            "status": "fail",
            "pValue": 1.2e-40,
            "note": "",
        },
    ],
    "applied": {"command": "abort", "from": "canary", "to": "idle", "live": "blue"},
}


def test_the_bot_commit_carries_the_numbers():
    assert gate_report.subject(ANALYSIS).startswith("Stage gate: abort staging at canary -> idle (limit broken")
    body = gate_report.body(ANALYSIS)
    for fragment in (
        "candidate 1.5.0 (green): 7200 requests, error rate 9.80 %, p95 80 ms",
        "live 1.4.2 (blue)",
        "fail: candidate error rate (HTTP 5xx), percent 9.8 (limit 5)",
        "p = 1.2e-40",
        "commit 0123456789ab",
    ):
        assert fragment in body, body


def test_the_promote_pull_request_body_is_the_analysis():
    markdown = gate_report.markdown({**ANALYSIS, "verdict": "promote", "applied": None})
    assert markdown.startswith("## Stage gate: promote for `staging`")
    assert "| candidate | green | `1.5.0` | 7200 | 9.80 % | 80 ms |" in markdown
    assert "| error rate increase over live, percentage points | 9.6 | <= 5 | 1.2e-40 | fail |" in markdown


def test_up_starts_the_gate_after_each_deployment():
    for job in ("up", "up-production"):
        steps = workflow("up.yml")["jobs"][job]["steps"]
        names = [s.get("name") for s in steps]
        assert names.index("Start the stage gate") == names.index("pulumi up") + 1
        assert workflow("up.yml")["jobs"][job]["permissions"]["actions"] == "write"
        assert "gh workflow run gate.yml" in steps[names.index("Start the stage gate")]["run"]


def test_the_gate_watches_outside_the_stack_lock_and_acts_inside_it():
    jobs = workflow("gate.yml")["jobs"]
    # One watch per stack, never in the deployments' group: a newer watch replaces an older one
    # (the verdict does not depend on who looked since when), and deployments never wait for it.
    assert jobs["watch"]["concurrency"] == {"group": "gate-watch-${{ inputs.stack }}", "cancel-in-progress": True}
    assert jobs["act"]["concurrency"] == {"group": "pulumi-${{ inputs.stack }}", "cancel-in-progress": False}
    assert jobs["watch"]["permissions"] == {"contents": "read", "id-token": "write", "actions": "write"}
    act = {s.get("name"): s for s in jobs["act"]["steps"]}
    script_text = act["Commit the verdict on the newest main"]["run"]
    # On the newest main; production is never pushed to directly.
    assert "git reset --quiet --hard origin/main" in script_text
    assert "!= production" in script_text and "gh pr create" in script_text
    assert act["pulumi up"]["if"] == "steps.act.outputs.done == 'direct'"


def _watch_script() -> str:
    return workflow("gate.yml")["jobs"]["watch"]["steps"][-2]["run"]


def _act_script() -> str:
    steps = {s.get("name"): s for s in workflow("gate.yml")["jobs"]["act"]["steps"]}
    return steps["Commit the verdict on the newest main"]["run"]


def test_a_watch_still_at_hold_hands_over_to_the_next_run():
    # A job lasts 6 h at most; production's bake is 48 h. The next run judges the same grid.
    watch = _watch_script()
    assert 'stagewise watch --stack "$STACK" --interval 30s --timeout 5h --json' in watch
    hold = watch[watch.index("3)") : watch.index("4)")]
    assert 'gh workflow run gate.yml --ref main -f stack="$STACK"' in hold
    assert workflow("gate.yml")["jobs"]["watch"]["timeout-minutes"] * 60 > 5 * 3600


def test_an_abort_is_acted_on_at_once_without_a_confirming_look():
    script = _act_script()
    abort = script[script.index('if [ "$WATCHED" = abort ]') : script.index("else")]
    assert 'stagewise abort --stack "$STACK"' in abort and "stagewise analyze" not in abort
    # Only a changed stage stops it: then the new state is watched.
    assert script.index("stage-commit") < script.index('if [ "$WATCHED" = abort ]')


def test_a_verdict_that_no_longer_applies_resumes_watching():
    script = _act_script()
    resume = script[script.index("resume() {") : script.index("}", script.index("resume() {"))]
    assert 'gh workflow run gate.yml --ref main -f stack="$STACK"' in resume
    assert 'resume "the stage changed since the watch"' in script
    assert 'resume "the verdict is' in script and 'resume "main kept moving"' in script


def test_the_stage_commit_the_act_job_compares_is_analyzes(tmp_path, monkeypatch):
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    monkeypatch.chdir(tmp_path)
    git(tmp_path, "init", "--quiet", "-b", "main")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    shas = []
    for stage in ("idle", "canary", "canary"):
        (tmp_path / "Pulumi.dev.yaml").write_text(
            "config:\n  stagewise:environment: dev\n  stagewise:nameSeed: t3stseed\n  stagewise:owner: o\n  stagewise:costCentre: c\n"
            "  stagewise:release:\n    image: demo\n    blue: 1.5.0\n    green: 1.6.0\n    live: blue\n"
            f"    stage: {stage}\n" + ("  stagewise:traffic:\n    ttl: 60\n" if len(shas) == 2 else "")
        )
        git(tmp_path, "add", ".")
        git(tmp_path, "commit", "--quiet", "-m", f"stage {stage}")
        shas.append(git(tmp_path, "rev-parse", "HEAD").strip())
    # The commit that set canary, not the later one that changed another key.
    assert gate_report.stage_commit("dev") == shas[1]


def test_the_gate_offers_every_azure_stack():
    options = workflow("gate.yml")["on"]["workflow_dispatch"]["inputs"]["stack"]["options"]
    azure = {name for name, path in stack_files().items() if "environment: local" not in path.read_text()}
    assert set(options) == azure


def test_up_starts_the_gate_only_for_a_stage_with_candidate_traffic(tmp_path, monkeypatch):
    import shutil

    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    monkeypatch.chdir(tmp_path)
    for stage, share in (("idle", 0), ("early", 20), ("full", 100)):
        (tmp_path / "Pulumi.dev.yaml").write_text(
            "config:\n  stagewise:environment: dev\n  stagewise:nameSeed: t3stseed\n  stagewise:owner: o\n  stagewise:costCentre: c\n"
            "  stagewise:release:\n    image: demo\n    blue: 1.5.0\n    green: 1.6.0\n    live: blue\n"
            f"    stage: {stage}\n"
        )
        assert gate_report.share("dev") == share


def test_up_notifies_the_stacks_targets_of_every_up_applied_or_failed():
    for job in ("up", "up-production"):
        steps = workflow("up.yml")["jobs"][job]["steps"]
        names = [s.get("name") for s in steps]
        up, notify = steps[names.index("pulumi up")], steps[names.index("Notify")]
        assert names.index("Notify") > names.index("pulumi up") and up["id"] == "up"
        # It runs after a failed up too, and never for an up that did not run.
        assert notify["if"] == "always() && steps.up.outcome != 'skipped'"
        assert "up-applied" in notify["run"] and "up-failed" in notify["run"]
        assert notify["env"]["OUTCOME"] == "${{ steps.up.outcome }}"
