"""Each fact shared across languages has one home, stagewise/formats/facts.py: the scripts read it
from there, and no copy of it is typed anywhere else in the sources."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from stagewise.formats import facts

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / "stagewise" / "formats" / "facts.py"
# Where a copy would be read by something: the scripts, the demo app, the package and its programs.
SEARCHED = ("scripts", "demo", "components", "stagewise", "infra")
SKIPPED_SUFFIXES = {".pyc", ".tar", ".png", ".svg", ".sum"}

# What a copy of each fact looks like as typed in Python, bash, YAML or Go.
COPIES: dict[str, list[str]] = {
    "the pod label (POD_SELECTOR)": [r"app\.kubernetes\.io/part-of"],
    "the gateway class (GATEWAY_CLASS)": [r"(?i)gateway_?class\W{1,6}stagewise\b"],
    "the gateway port (GATEWAY_PORT)": [r"(?i)gateway_?port\s*[:=]\s*80\b", r"\"listeners\".*\"port\":\s*\d"],
    "the Prometheus address (PROMETHEUS_URL)": [r"(127\.0\.0\.1|localhost):9090\b", r"PROMETHEUS_PORT\W.*\b9090\b"],
    "the kubeconfig path (KUBECONFIG)": [r"\.cluster/kubeconfig\b", r"CLUSTER_DIR/kubeconfig\b"],
    "the local passphrase (LOCAL_PASSPHRASE)": [r"(?i)passphrase\W[^\n]*stagewise-local\b"],
    "the node label (NODE_LABEL)": [r"stagewise\.dev/data-plane"],
    "the Pulumi version (PULUMI_VERSION)": [re.escape(facts.PULUMI_VERSION) + r"\b"],
    "the Kubernetes provider version (PULUMI_KUBERNETES_VERSION)": [re.escape(facts.PULUMI_KUBERNETES_VERSION) + r"\b"],
    "a second TIER_DEFAULTS": [r"^TIER_DEFAULTS\b"],
}


def source_files() -> list[Path]:
    found = []
    for folder in SEARCHED:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_symlink() or any(parent.is_symlink() for parent in path.parents):
                continue  # stagewise/components -> ../components: walked once, as components/
            if path.is_file() and path.suffix not in SKIPPED_SUFFIXES and "__pycache__" not in path.parts:
                found.append(path)
    return found


def copies(files: list[Path]) -> dict[str, list[str]]:
    """Per fact, the `path:line: text` of every line that types it again."""
    found: dict[str, list[str]] = {}
    compiled = {fact: [re.compile(p) for p in patterns] for fact, patterns in COPIES.items()}
    for path in files:
        if path == HOME:
            continue
        try:
            lines = path.read_text().splitlines()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(lines, 1):
            for fact, patterns in compiled.items():
                if any(p.search(line) for p in patterns):
                    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                    found.setdefault(fact, []).append(f"{where}:{number}: {line.strip()}")
    return found


def test_no_shared_fact_is_typed_again():
    found = copies(source_files())
    # The one TIER_DEFAULTS is in stagewise/core/defaults.py.
    defaults = found.get("a second TIER_DEFAULTS", [])
    found["a second TIER_DEFAULTS"] = [line for line in defaults if not line.startswith("stagewise/core/defaults.py:")]
    offenders = {fact: lines for fact, lines in found.items() if lines}
    assert offenders == {}, "read these from stagewise/formats/facts.py instead:\n" + "\n".join(
        f"{fact}:\n  " + "\n  ".join(lines) for fact, lines in offenders.items()
    )


def test_the_search_finds_a_copy(tmp_path: Path):
    # The check above means something only if its patterns catch copies as they were typed.
    typed = tmp_path / "copy.sh"
    typed.write_text(
        "kc get pods -l app.kubernetes.io/part-of=stagewise\nGATEWAY_PORT=80\nGATEWAY_CLASS=stagewise\n"
        'PROMETHEUS_PORT=${STAGEWISE_PROMETHEUS_PORT:-9090}\nKUBECONFIG_PATH="$CLUSTER_DIR/kubeconfig"\n'
        'export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-stagewise-local}"\n'
        'NODE_LABEL="stagewise.dev/data-plane=real"\nPULUMI_VERSION=v3.250.0\nK8S_PROVIDER_VERSION=v4.32.0\n'
    )
    python = tmp_path / "copy.py"
    python.write_text(
        '"url": "http://127.0.0.1:9090",\n"kubeconfig": ".cluster/kubeconfig",\n"gatewayClass": "stagewise",\n'
        '"listeners": [{"name": "http", "protocol": "HTTP", "port": 80}],\nTIER_DEFAULTS = {}\n'
    )
    found = copies([typed, python])
    assert set(found) == set(COPIES)


def test_pyproject_pins_the_sdks_the_engine_is_built_for():
    text = (ROOT / "pyproject.toml").read_text()
    assert f'"pulumi=={facts.PULUMI_VERSION}"' in text
    assert f'"pulumi-kubernetes=={facts.PULUMI_KUBERNETES_VERSION}"' in text


def test_the_scripts_read_every_fact_from_its_home():
    printed = subprocess.run(
        [sys.executable, str(HOME), "env"], capture_output=True, text=True, check=True, cwd="/"
    ).stdout
    echo = "; ".join(f'printf "%s\\n" "$FACT_{name}"' for name in facts.SHARED)
    read_back = subprocess.run(["bash", "-c", f'eval "$1"; {echo}', "bash", printed], capture_output=True, text=True)
    assert read_back.stdout.splitlines() == [str(getattr(facts, name)) for name in facts.SHARED]


def test_the_versions_the_scripts_build_are_the_sdks():
    script = '. scripts/lib.sh && printf "%s\\n" "$PULUMI_VERSION" "$K8S_PROVIDER_VERSION"'
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"v{facts.PULUMI_VERSION}", f"v{facts.PULUMI_KUBERNETES_VERSION}"]


@pytest.mark.parametrize("argv", [[], ["json"], ["env", "extra"]])
def test_the_command_refuses_anything_but_env(argv: list[str]):
    result = subprocess.run([sys.executable, str(HOME), *argv], capture_output=True, text=True)
    assert result.returncode == 2 and "usage:" in result.stderr and result.stdout == ""
