"""Every shipped stack, as the program builds it, passes the policy pack's mandatory policies.

The stacks are evaluated under mocks (the Azure ones cannot be deployed here) and each recorded
resource goes through pulumi_policy's own analyzer service, as the engine would send it.
"""

import sys
from pathlib import Path

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from stagewise.evaluate import evaluate_stack

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the pack is run from its directory, not installed

from policy import rules  # noqa: E402
from policy.policies import PACK_NAME, policies  # noqa: E402


def violations(ev) -> list[str]:
    service = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", policies(), EnforcementLevel.MANDATORY)
    mandatory = {p.name for p in policies() if p.enforcement_level == EnforcementLevel.MANDATORY}
    found = []
    for resource in ev.resources:
        if not resource.custom:
            continue
        props = struct_pb2.Struct()
        props.update(resource.inputs)
        request = proto.AnalyzeRequest(type=resource.type, properties=props, urn=resource.urn, name=resource.name)
        found += [f"{resource.name}: {d.policyName}: {d.message}"
                  for d in service.Analyze(request, None).diagnostics if d.policyName in mandatory]
    stack = [rules.StackResource(urn=r.urn, type=r.type, name=r.name, props=r.inputs, property_dependencies={})
             for r in ev.resources if r.custom]
    found += [v.message for v in rules.traffic_manager_enabled_endpoint(stack)]
    return found


@pytest.mark.parametrize("stack", ["dev", "staging", "production"])
def test_azure_stack_passes_the_policy_pack(stack):
    ev = evaluate_stack((ROOT / "Pulumi.yaml").read_text(), (ROOT / f"Pulumi.{stack}.yaml").read_text(), stack)
    assert violations(ev) == []


def test_local_stack_passes_the_policy_pack(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    text = (ROOT / "Pulumi.local.yaml").read_text().replace("    app: demo\n", f"    app: demo\n    kubeconfig: {kubeconfig}\n")
    assert violations(evaluate_stack((ROOT / "Pulumi.yaml").read_text(), text, "local")) == []


def test_the_check_sees_a_violation():
    ev = evaluate_stack((ROOT / "Pulumi.yaml").read_text(),
                        (ROOT / "Pulumi.production.yaml").read_text().replace("ttl: 30", "ttl: 300"), "production")
    assert any("traffic-manager-production-ttl" in v for v in violations(ev))
