"""Random sequences of commands through the CLI on the real stack files.

Every accepted command leaves a file the program accepts, changed only in the keys the command
owns and as the rollout model says; every refused command leaves the file byte for byte as it was.
A few sequences are also evaluated under mocks, to check the slot traffic rules and the Traffic Manager
endpoints themselves.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from typer.testing import CliRunner

from stagewise.core import limits, rollout, stackconfig, tiers
from stagewise.formats import stackfile
from stagewise.tools import cli, evaluate, stackedit

ROOT = stackfile.project_root()
AZURE_STACKS = ["dev", "staging", "production"]
STACKS = [*AZURE_STACKS, "local"]
STAGE_NAMES = ["idle", "canary", "early", "quarter", "half", "full", "hlaf"]

command = st.one_of(
    st.tuples(st.just("deploy"), st.sampled_from(["1.6.0", "2.0", "v3-rc.1"])),
    st.just(("promote",)),
    st.tuples(st.just("promote"), st.just("--to"), st.sampled_from(STAGE_NAMES)),
    st.tuples(st.just("promote"), st.just("--to"), st.sampled_from(STAGE_NAMES), st.just("--force")),
    st.just(("rollback",)),
    st.just(("abort",)),
    st.just(("finish",)),
)
steps = st.lists(command, min_size=1, max_size=8)
scenario = st.tuples(st.sampled_from(STACKS), steps)
azure_scenario = st.tuples(st.sampled_from(AZURE_STACKS), steps)


def safe(text: str) -> dict:
    return YAML(typ="safe", pure=True).load(text)


def expected_release(cfg, args: tuple) -> rollout.Release | None:
    """What the rollout model says the command does (None: refused)."""
    release, catalog = cfg.rollout_release, cfg.catalog
    # The tier decides whether skipping a stage or moving towards an older version needs a flag.
    relaxed = not tiers.promotion_guarded(cfg.environment)
    try:
        match args:
            case ("deploy", tag):
                return rollout.deploy(release, catalog, tag)
            case ("promote", "--to", to, *force):
                if to not in catalog.names:
                    return None
                return rollout.promote(release, catalog, to, skip_stages=bool(force) or relaxed, allow_older=relaxed)
            case ("promote",):
                return rollout.promote(release, catalog, allow_older=relaxed)
            case ("rollback",):
                return rollout.rollback(release, catalog)
            case ("abort",):
                return rollout.abort(release, catalog)
            case ("finish",):
                return rollout.finish(release, catalog)
    except rollout.RolloutError:
        return None
    raise AssertionError(args)


@contextlib.contextmanager
def project_copy():
    with tempfile.TemporaryDirectory() as folder:
        for path in [ROOT / "Pulumi.yaml", *(ROOT / f"Pulumi.{s}.yaml" for s in STACKS)]:
            shutil.copy(path, Path(folder) / path.name)
        with contextlib.chdir(folder):
            yield Path(folder)


def run_sequence(folder: Path, stack: str, steps: list[tuple]) -> str:
    path = folder / f"Pulumi.{stack}.yaml"
    project = (folder / "Pulumi.yaml").read_text()
    runner = CliRunner()
    for args in steps:
        before = path.read_bytes()
        cfg = stackconfig.config_from_texts(project, before.decode(), path.name)
        expected = expected_release(cfg, args)
        result = runner.invoke(cli.app, [*args, "--stack", stack])
        if expected is None:
            assert result.exit_code == 1, (args, result.output)
            assert path.read_bytes() == before, args
            assert result.stderr.startswith("error: ")
            continue
        assert result.exit_code == 0, (args, result.output)
        after_text = path.read_text()
        # The program accepts the result, and it is what the model says.
        after_cfg = stackconfig.config_from_texts(project, after_text, path.name)
        assert after_cfg.rollout_release == expected
        # Nothing but the release keys the commands own changed.
        old, new = safe(before.decode()), safe(after_text)
        for key in stackedit.OWNED_KEYS:
            old["config"][stackedit.RELEASE_KEY].pop(key, None)
            new["config"][stackedit.RELEASE_KEY].pop(key, None)
        assert old == new
    return path.read_text()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario)
def test_accepted_commands_write_valid_files_and_refused_ones_touch_nothing(case):
    stack, steps = case
    with project_copy() as folder:
        run_sequence(folder, stack, steps)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(azure_scenario)
def test_origin_weights_carry_each_colours_share_and_no_site_holds_a_rule(case):
    stack, steps = case
    with project_copy() as folder:
        final = run_sequence(folder, stack, steps)
        project = (folder / "Pulumi.yaml").read_text()
    evaluation = evaluate.evaluate_stack(project, final, stack)
    traffic = evaluation.outputs["traffic"]
    assert sum(traffic.values()) == 100
    # No site holds a slot traffic rule (changing one restarts the site), whatever the stage.
    sites = evaluation.of_type("azure-native:web:WebApp")
    assert sites
    assert all(site.inputs["siteConfig"]["experiments"] == {"rampUpRules": []} for site in sites)
    # Two Front Door origins per region, each weight valid; a colour with traffic is a primary (priority 1), a colour
    # at 0 % a fallback (priority 2), disabled only without a version; within each region the weights split the
    # traffic as the stage says (to the rounding of 1..1000).
    origins = {o.inputs["originName"]: o.inputs for o in evaluation.of_type("azure-native:cdn:AFDOrigin")}
    assert len(origins) == 2 * len(sites)
    assert all(limits.AFD_MIN_WEIGHT <= o["weight"] <= limits.AFD_MAX_WEIGHT for o in origins.values())
    assert any(o["enabledState"] == "Enabled" for o in origins.values())
    for site in sites:
        region = site.inputs["location"]
        by_colour = {c: origins[f"{region}-{c}"] for c in ("blue", "green")}
        for colour, origin in by_colour.items():
            assert origin["priority"] == (1 if traffic[colour] > 0 else 2)
            if traffic[colour] > 0:
                assert origin["enabledState"] == "Enabled"
        if all(traffic[c] > 0 for c in by_colour):
            blue, green = by_colour["blue"]["weight"], by_colour["green"]["weight"]
            assert abs(100 * green / (blue + green) - traffic["green"]) < 1
