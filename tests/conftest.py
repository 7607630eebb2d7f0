"""Test lanes: every test gets the marker of its folder's lane here, so nobody has to remember one.

    check       needs only the virtualenv: no cluster, no data plane, no network, no root
                (`make check`, the inner loop: pure logic, components under mocks, CLI, policy)
    prometheus  runs Debian's prometheus and promtool on loopback (`make prometheus` installs them)
    e2e         the real engine against the local cluster and data plane (root; `make test` builds them)

`make test` runs every lane. A new folder under tests/ must be given a lane below, or collection stops.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

LANES = {
    "unit": "check",
    "components": "check",
    "cli": "check",
    "analysis": "prometheus",
    "report": "prometheus",
    "e2e": "e2e",
}


def lane_of(path: Path) -> str:
    folder = path.resolve().relative_to(TESTS).parts[0]
    if folder not in LANES:
        raise pytest.UsageError(f"tests/{folder} has no test lane: give it one in LANES (tests/conftest.py)")
    return LANES[folder]


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(lane_of(Path(item.path)))
