"""The stack-file reader and the tag quoting checked against the engine itself: the real yaml.v3
(the version the pinned Pulumi engine builds with) and the real `pulumi config`."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import PASSPHRASE, _toolchain_env

from stagewise.core import limits
from stagewise.formats import yamlv3
from stagewise.tools import stackedit
from tests.tag_cases import PLAIN, RETYPED

ORACLE = Path(__file__).parent / "yaml_oracle"


@pytest.fixture(scope="module")
def oracle(tmp_path_factory) -> Path:
    if shutil.which("go") is None:
        pytest.fail("no Go toolchain: it builds the engine (scripts/toolchain.sh), and this test needs it too")
    binary = tmp_path_factory.mktemp("oracle") / "yaml-oracle"
    subprocess.run(
        ["go", "build", "-o", str(binary), "."], cwd=ORACLE, check=True, env={**os.environ, "GOFLAGS": "-mod=mod"}
    )
    return binary


def _typed(value):
    if isinstance(value, dict):
        return {"map": {str(k): _typed(v) for k, v in value.items()}}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, float):
        return {"float": value}
    return None if value is None else {"str": value}


def _same(engine, ours) -> bool:
    if isinstance(engine, dict) and "float" in engine and isinstance(ours, dict) and "float" in ours:
        expected = float(engine["float"].replace("+Inf", "inf").replace("-Inf", "-inf"))
        return (
            math.isclose(expected, ours["float"])
            or (math.isnan(expected) and math.isnan(ours["float"]))
            or expected == ours["float"]
        )
    if isinstance(engine, dict) and isinstance(ours, dict):
        return engine.keys() == ours.keys() and all(_same(engine[k], ours[k]) for k in engine)
    if isinstance(engine, list) and isinstance(ours, list):
        return len(engine) == len(ours) and all(_same(a, b) for a, b in zip(engine, ours))
    return engine == ours


def _corpus() -> list[str]:
    rng = random.Random(20261122)
    alphabet = "0123456789_.-+eExXoObBtTrRuUfFaAlLsSnN~: 9T"
    scalars = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10))) for _ in range(3000)]
    docs = [f"v: {s}" for s in scalars]
    for width in range(2, 10):
        for depth in range(1, 7):
            doc = "a0: &a0 [" + ",".join(["x"] * width) + "]\n"
            doc += "".join(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]\n" for i in range(1, depth + 1))
            docs.append(doc)
    docs += [
        "a: &a [*a]",
        "a: {b: 1, b: 2}",
        "a: *x",
        "x: &x 1\na: {<<: *x}",
        "b: &b {x: 1}\nc: {<<: *b, y: 2}",
        "a: !!binary aGVsbG8=",
        "a: !!int foo",
        "v: {secure: 12345}",
        "\ufeffa: b",
        "a: 1\n---\nb: [",
        "? [1]\n: 2",
    ]
    return docs


def test_the_reader_types_and_refuses_exactly_as_yaml_v3(oracle: Path):
    docs = _corpus()
    answers = json.loads(
        subprocess.run([str(oracle)], input=json.dumps(docs), capture_output=True, text=True, check=True).stdout
    )
    wrong = []
    for doc, engine in zip(docs, answers):
        try:
            ours = {"value": _typed(yamlv3.load(doc))}
        except yamlv3.YamlError as err:
            ours = {"error": str(err)}
        if ("error" in engine) != ("error" in ours) or (
            "value" in engine and not _same(engine["value"], ours["value"])
        ):
            wrong.append((doc, engine, ours))
    assert not wrong, wrong[:5]


def test_every_tag_deploy_writes_reaches_the_program_as_written(tmp_path: Path):
    """`pulumi config` prints the values as the engine hands them to the program."""
    env = {
        **_toolchain_env(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
    }
    (tmp_path / "state").mkdir()
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: tagcheck\nruntime: python\n")
    subprocess.run(
        ["pulumi", "stack", "init", "tags", "--non-interactive"], cwd=project, env=env, check=True, capture_output=True
    )
    tags = [*RETYPED, *PLAIN, "1e400"]
    rng = random.Random(7)
    tags += ["".join(rng.choice("0123456789._-xXoObBeE") for _ in range(rng.randint(1, 8))) for _ in range(40)]
    tags = [t for t in dict.fromkeys(tags) if limits.IMAGE_TAG.match(t)]
    stack_file = project / "Pulumi.tags.yaml"
    salt = stack_file.read_text() if stack_file.exists() else ""
    base = "config:\n  tagcheck:release:\n    image: app\n    green: x\n" + salt
    wrong = []
    for tag in tags:
        stack_file.write_text(
            stackedit.edit_release(base.replace("tagcheck:release", stackedit.RELEASE_KEY), {"green": tag})
        )
        shown = subprocess.run(
            ["pulumi", "config", "--json", "--stack", "tags"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        green = json.loads(json.loads(shown)[stackedit.RELEASE_KEY]["value"])["green"]
        if green != tag:
            wrong.append((tag, green))
    assert not wrong
