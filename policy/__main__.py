"""Entry point of the Stagewise policy pack (`pulumi preview --policy-pack policy`).

The Python language host runs this directory as a script; the rules come from the installed
`stagewise.policy` package (pip install -e . at the repository root). Constructing PolicyPack starts the
analyzer server and blocks, which is why nothing imports this module.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from stagewise.policy.policies import PACK_NAME, policies

PolicyPack(
    name=PACK_NAME,
    policies=policies(),
    enforcement_level=EnforcementLevel.MANDATORY,
)
