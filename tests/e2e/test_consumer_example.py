"""Another team's program (examples/checkout-on-kubernetes) installs Stagewise as a dependency and
deploys its own environment from the components: `pulumi up` with the real engine on the local
cluster, then `pulumi destroy`.

The program runs in a virtualenv of its own that has this project installed from a built wheel (not
the checkout), so what it imports is what `pip install` gives another team. The wheel's dependencies
are the project's pinned ones: the example's virtualenv reads them from the project's virtualenv
rather than installing them a second time.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from stagewise.tools.demo.workspace import copy_project
from tests.e2e.conftest import PASSPHRASE, ROOT, Project, _toolchain_env

EXAMPLE = ROOT / "examples" / "checkout-on-kubernetes"
NAMESPACE = "checkout-e2e"
STACK = "dev"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    # Built from a copy: an in-tree build leaves build/ and an egg-info behind in the checkout.
    source = tmp_path_factory.mktemp("source")
    copy_project(ROOT, source)
    Project(source, dict(os.environ)).run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(source)
    )
    (built,) = dist.glob("stagewise-*.whl")
    return built


def test_the_wheel_installs_one_top_level_name(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"stagewise"}
    for package in ("components", "policy", "infra", "core", "tools"):
        assert f"stagewise/{package}/__init__.py" in names, package


@pytest.fixture(scope="module")
def example(cluster, wheel, tmp_path_factory) -> Iterator[Project]:
    """The example copied out of the checkout, with its own virtualenv and a file state backend."""
    path = tmp_path_factory.mktemp("checkout") / "checkout-on-kubernetes"
    shutil.copytree(EXAMPLE, path, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    state = tmp_path_factory.mktemp("checkout-state")
    env = _toolchain_env() | {
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "KUBECONFIG": str(ROOT / ".cluster" / "kubeconfig"),
    }
    env.pop("PYTHONPATH", None)
    example = Project(path, env, stack=STACK)
    example.run(sys.executable, "-m", "venv", "venv")
    site = Path(
        example.run("venv/bin/python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip()
    )
    (site / "stagewise-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    example.run("venv/bin/python", "-m", "pip", "install", "--quiet", "--no-deps", str(wheel))
    example.pulumi("stack", "init")
    example.pulumi("config", "set", "checkout:namespace", NAMESPACE)
    example.pulumi("config", "set", "--secret", "checkout:paymentsApiKey", "pk-e2e-not-real")
    yield example
    example.pulumi("destroy", "--yes", "--skip-preview", check=False)


def test_the_program_imports_the_installed_package(example):
    where = example.run("venv/bin/python", "-c", "import stagewise.components as c; print(c.__file__)")
    assert where.stdout.strip().startswith(str(example.path / "venv")), where.stdout


def test_up_builds_the_teams_environment_and_destroy_removes_it(example):
    example.pulumi("up", "--yes", "--skip-preview")
    outputs = json.loads(example.pulumi("stack", "output", "--json").stdout)
    assert outputs["namespace"] == NAMESPACE
    assert outputs["deployments"] == {"blue": "checkout-blue", "green": "checkout-green"}
    route = example.kube_json("-n", NAMESPACE, "get", "httproute", outputs["route"])
    weights = {b["name"]: b["weight"] for b in route["spec"]["rules"][0]["backendRefs"]}
    # Pulumi.dev.yaml gives the candidate (green) 20 %.
    assert weights == {"checkout-blue": 80, "checkout-green": 20}
    secret = example.kube_json("-n", NAMESPACE, "get", "secret", "checkout-secrets")
    assert set(secret["data"]) == {"payments-api-key"}
    # The secret went in as a secret: not in the engine's output or the state in plain text.
    assert "pk-e2e-not-real" not in example.pulumi("stack", "export").stdout

    example.pulumi("destroy", "--yes", "--skip-preview")
    gone = example.kubectl("get", "namespace", NAMESPACE, check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr
