"""Evaluate the program for a stack under Pulumi's mocks: no engine, no cloud, no credentials.

Records every resource the program registers (type, name, parent, options and inputs, secrets
masked) and the stack outputs. The offline plan, the tests and the benchmarks build on it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from stagewise.formats import stackfile
from stagewise.formats.stackfile import StackText

FAKE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    protect: bool
    inputs: dict[str, Any]
    secret_digests: dict[tuple[str | int, ...], str] = field(default_factory=dict, repr=False)
    """Path in the inputs -> keyed digest of the secret there: whether a secret changed, nothing more."""
    dependencies: tuple[str, ...] = field(default=(), repr=False)
    """URNs this resource depends on (depends_on and every input's source), as the engine sees them."""
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    """Input property -> URNs of the resources its value came from."""
    retain_on_delete: bool = False
    """Left in the cloud when it leaves the stack."""


@dataclass
class Evaluation:
    resources: list[Resource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]


def _masked(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return stackfile.SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


# Secret values never leave the process: a digest keyed with a random per-process key lets two
# evaluations in one process tell that a secret changed (the offline plan), and reveals nothing.
_DIGEST_KEY = os.urandom(32)


def _secret_digests(value: Any, path: tuple[str | int, ...] = ()) -> dict[tuple[str | int, ...], str]:
    if rpc.is_rpc_secret(value):
        plain = json.dumps(rpc.unwrap_rpc_secret(value), sort_keys=True, default=str).encode()
        return {path: hmac.new(_DIGEST_KEY, plain, hashlib.sha256).hexdigest()}
    if isinstance(value, dict):
        return {p: d for k, v in value.items() for p, d in _secret_digests(v, (*path, k)).items()}
    if isinstance(value, list):
        return {p: d for i, v in enumerate(value) for p, d in _secret_digests(v, (*path, i)).items()}
    return {}


# Outputs the cloud would compute and the program reads back.
def _computed(type_: str, name: str) -> dict[str, Any]:
    if type_ in ("azure-native:web:WebApp", "azure-native:web:WebAppSlot"):
        return {
            "identity": {"type": "SystemAssigned", "principalId": f"{name}-principal"},
            "defaultHostName": f"{name}.azurewebsites.net",
        }
    if type_ == "azure-native:keyvault:Vault":
        return {"properties": {"vaultUri": f"https://{name}.vault.azure.net/"}}
    if type_ == "azure-native:trafficmanager:Profile":
        return {"dnsConfig": {"fqdn": f"{name}.trafficmanager.net"}}
    if type_ == "azure-native:cdn:Profile":
        return {"frontDoorId": f"{name}-fdid"}
    if type_ == "azure-native:cdn:AFDEndpoint":
        return {"hostName": f"{name}-hash.z01.azurefd.net"}
    if type_ == "azure-native:managedidentity:UserAssignedIdentity":
        return {"principalId": f"{name}-principal", "clientId": f"{name}-client"}
    if type_ == "azure-native:applicationinsights:Component":
        return {"connectionString": f"InstrumentationKey={name}"}
    return {}


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        outputs = {"name": args.name, **args.inputs, **_computed(args.typ, args.name)}
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        if args.token == "azure-native:authorization:getClientConfig":
            client = {
                "clientId": "client",
                "objectId": "object",
                "subscriptionId": FAKE_SUBSCRIPTION,
                "tenantId": FAKE_SUBSCRIPTION,
            }
            return client, []
        return {}, []


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks, evaluation: Evaluation):
        super().__init__(mocks)
        self.evaluation = evaluation

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            inputs = rpc.deserialize_properties(request.object)
            self.evaluation.resources.append(
                Resource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    custom=request.custom,
                    protect=request.protect,
                    inputs=_masked(inputs),
                    secret_digests=_secret_digests(inputs),
                    dependencies=tuple(request.dependencies),
                    property_dependencies={key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()},
                    retain_on_delete=bool(request.retainOnDelete),
                )
            )
        return response


async def _resolve(outputs: dict[str, Any], evaluation: Evaluation) -> None:
    for key, value in outputs.items():
        output = pulumi.Output.from_input(value)
        evaluation.outputs[key] = await output.future()
        if await output.is_secret():
            evaluation.secret_outputs.add(key)


def run(
    program: Callable[[], dict[str, Any]],
    config: dict[str, Any],
    secret_keys: set[str],
    *,
    project: str = "stagewise",
    stack: str = "dev",
    evaluation: Evaluation | None = None,
) -> Evaluation:
    """Run `program` (which returns the stack outputs) with `config` ("ns:key" -> value) under mocks.
    Pass `evaluation` to keep what was recorded even when the program raises."""
    evaluation = evaluation if evaluation is not None else Evaluation()
    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.set_all_config(stackfile.as_engine_config(config), sorted(secret_keys))
    monitor = _RecordingMonitor(_Mocks(), evaluation)
    pulumi.runtime.set_mocks(_Mocks(), project=project, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.settings.SETTINGS.rpc_manager.clear()

    def body() -> None:
        outputs = program()
        _sync_await(_resolve(outputs, evaluation))

    try:
        _sync_await(run_pulumi_func(body))
    finally:
        asyncio.get_event_loop().close()
    return evaluation


def evaluate_stack(project_text: str, stack_text: str, stack: str, project: str = "stagewise") -> Evaluation:
    """Evaluate the Stagewise program for a stack, given the text of Pulumi.yaml and of its stack file."""
    defaults = stackfile.project_defaults(project_text)
    return evaluate_parsed(defaults, StackText.parse(stack_text, f"Pulumi.{stack}.yaml"), stack, project)


def evaluate_parsed(
    project_defaults: Mapping[str, Any], parsed: StackText, stack: str, project: str = "stagewise"
) -> Evaluation:
    """`evaluate_stack` of a stack file parsed already, with Pulumi.yaml's config defaults: the
    config as the engine would hand it over, and the two facts the program takes from the file."""
    from stagewise.infra import program, settings

    config, secret_keys = stackfile.merged_config(project_defaults, parsed)
    encrypted, installation = parsed.encrypted_secret_names, parsed.installation
    return run(
        lambda: program.build_stack(settings.load(encrypted=encrypted, installation=installation)),
        config,
        secret_keys,
        project=project,
        stack=stack,
    )
