"""Entry point of the Stagewise policy pack (`pulumi preview --policy-pack policy`).

The Python language host runs this directory as `python policy/`, which puts policy/ itself on
sys.path; the rules live in the `policy` package, so the repository root goes first. Constructing
PolicyPack starts the analyzer server and blocks, which is why nothing imports this module.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policy.policies import PACK_NAME, policies  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    policies=policies(),
    enforcement_level=EnforcementLevel.MANDATORY,
)
