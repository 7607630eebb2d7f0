"""GrantPropagation: wait, once per new grant, until role assignments take effect.

A dependency on a role assignment makes a site's create wait for the assignment to exist, not for it to
take effect. A site created earlier resolves its Key Vault references without the grant and keeps the
literal reference strings until the next refetch, "every 24 hours" (app-service/app-service-key-vault-
references.md, "Understand rotation"); an AcrPull grant that is not effective yet fails the first pull.
So every site depends on this wait, which sleeps `seconds` after its grants are created (again when
they are replaced) and never otherwise: a stage change or a deploy does not wait.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic as dynamic
from pulumi_azure_native import authorization

from stagewise.core import limits


class _WaitProvider(dynamic.ResourceProvider):
    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        time.sleep(int(props["propagationSeconds"]))
        grants = "/".join(sorted(props["grants"]))
        return dynamic.CreateResult(id_=hashlib.sha256(grants.encode()).hexdigest()[:16], outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        # New grants: a new wait (replace). Only the length changed: nothing to wait for now.
        replaces = ["grants"] if sorted(olds.get("grants") or []) != sorted(news.get("grants") or []) else []
        changed = bool(replaces) or olds.get("propagationSeconds") != news.get("propagationSeconds")
        return dynamic.DiffResult(changes=changed, replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(outs=news)


class _Wait(dynamic.Resource):
    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions):
        super().__init__(_WaitProvider(), name, props, opts)


@dataclass
class GrantPropagationArgs:
    grants: Sequence[authorization.RoleAssignment]
    """The role assignments the sites need effective before they exist (Key Vault Secrets User, AcrPull)."""
    seconds: int = limits.RBAC_PROPAGATION_SECONDS


class GrantPropagation(pulumi.ComponentResource):
    def __init__(self, name: str, args: GrantPropagationArgs, opts: pulumi.ResourceOptions | None = None):
        if not args.grants:
            raise ValueError("grants: at least one role assignment to wait for")
        if args.seconds < 0:
            raise ValueError(f"seconds ({args.seconds}) must be 0 or more")
        super().__init__("stagewise:grant_propagation:GrantPropagation", name, None, opts)
        self.wait = _Wait(
            f"{name}-wait",
            {"grants": [g.id for g in args.grants], "propagationSeconds": args.seconds},
            pulumi.ResourceOptions(parent=self, depends_on=list(args.grants)),
        )
        self.register_outputs({})
