"""ReferenceCheck: fail `pulumi up` loudly when a site's Key Vault references did not resolve.

"If a reference isn't resolved properly, the reference string is used instead" (app-service/app-service-
key-vault-references.md, "Troubleshoot Key Vault references"): the app starts, `up` reports success, and
the app runs on literal @Microsoft.KeyVault(...) strings for up to a day. After the sites exist, this
check forces resolution (the documented refresh call) and reads each site's and slot's config references
API (stagewise.core.key_vault_references); any reference not "Resolved" fails the update with its status.

It runs when a site is created, when the references change and when the grants are replaced; a stage
change or a deploy does not run it (its inputs do not change; the access token is left out of the diff).
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic as dynamic
from pulumi_azure_native import authorization

from stagewise.core import key_vault_references

_COMPARED = ("siteIds", "settings", "after")


class _CheckProvider(dynamic.ResourceProvider):
    def _request(self, method: str, url: str, token: str) -> dict[str, Any]:
        request = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {token}"})
        if method == "POST":
            request.data = b""
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
        return json.loads(body) if body else {}

    def _check(self, props: dict[str, Any]) -> None:
        token, settings = props["token"], props["settings"]
        failures: dict[str, dict[str, str]] = {}
        for site_id in props["siteIds"]:
            self._request("POST", key_vault_references.refresh_url(site_id), token)
        for attempt in range(int(props["attempts"])):
            failures = {}
            for site_id in props["siteIds"]:
                payload = self._request("GET", key_vault_references.references_url(site_id), token)
                problems = key_vault_references.unresolved(payload, settings)
                if problems:
                    failures[site_id] = problems
            if not failures:
                return
            if attempt + 1 < int(props["attempts"]):
                time.sleep(int(props["intervalSeconds"]))
        lines = [f"{site}: {name}: {why}" for site, problems in failures.items() for name, why in problems.items()]
        raise Exception(
            "Key Vault references did not resolve, so the app would read the literal @Microsoft.KeyVault(...) "
            "strings: " + "; ".join(lines) + ". Check the identity's Key Vault Secrets User grant, the vault's "
            "network rules and the secret names, then run `pulumi up` again."
        )

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        self._check(props)
        return dynamic.CreateResult(id_="references-resolved", outs={k: props.get(k) for k in _COMPARED})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        return dynamic.DiffResult(changes=any(olds.get(k) != news.get(k) for k in _COMPARED))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        self._check(news)
        return dynamic.UpdateResult(outs={k: news.get(k) for k in _COMPARED})


class _Check(dynamic.Resource):
    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions):
        super().__init__(_CheckProvider(), name, props, opts)


@dataclass
class ReferenceCheckArgs:
    site_ids: Sequence[pulumi.Input[str]]
    """Resource IDs of the sites and slots whose references are checked."""
    settings: Sequence[str]
    """The app settings that hold Key Vault references."""
    after: pulumi.Input[str] | None = None
    """The grant wait's ID: a new wait (new grants) checks again."""
    attempts: int = 10
    interval_seconds: int = 30


class ReferenceCheck(pulumi.ComponentResource):
    def __init__(self, name: str, args: ReferenceCheckArgs, opts: pulumi.ResourceOptions | None = None):
        if not args.site_ids or not args.settings:
            raise ValueError("site_ids and settings: at least one site and one reference setting to check")
        super().__init__("stagewise:reference_check:ReferenceCheck", name, None, opts)
        token = authorization.get_client_token_output(opts=pulumi.InvokeOutputOptions(parent=self))
        _Check(
            f"{name}-resolved",
            {
                "siteIds": list(args.site_ids),
                "settings": sorted(args.settings),
                "after": args.after,
                "attempts": args.attempts,
                "intervalSeconds": args.interval_seconds,
                "token": pulumi.Output.secret(token.token),
            },
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
