"""Whether App Service resolved a site's Key Vault references: the answer of its config references API.

Pure: no Pulumi import, no I/O. "If a reference isn't resolved properly, the reference string is used
instead" (app-service/app-service-key-vault-references.md, "Troubleshoot Key Vault references"), and a
value is refetched only "every 24 hours" or on a configuration change (same doc, "Understand rotation"):
a reference that did not resolve is an outage that `pulumi up` must report, not one it may hide.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

API_VERSION = "2022-03-01"
RESOLVED = "Resolved"


def references_url(site_id: str) -> str:
    """GET: every app setting's reference and its status (WebApps_GetAppSettingsKeyVaultReferences)."""
    return f"https://management.azure.com{site_id}/config/configreferences/appsettings?api-version={API_VERSION}"


def refresh_url(site_id: str) -> str:
    """POST: "To force resolution of your app's Key Vault references" (same doc, "Understand rotation")."""
    return (
        f"https://management.azure.com{site_id}/config/configreferences/appsettings/refresh?api-version={API_VERSION}"
    )


def unresolved(payload: Mapping[str, Any], settings: Collection[str]) -> dict[str, str]:
    """Setting name -> why it is not resolved ("<status>: <details>", or "not reported"), for each of
    `settings` whose reference the payload does not report as resolved."""
    reported: dict[str, Mapping[str, Any]] = {}
    for item in payload.get("value") or []:
        name = _setting(item) if isinstance(item, Mapping) else None
        if name:
            properties = item.get("properties")
            reported[name] = properties if isinstance(properties, Mapping) else {}
    problems = {}
    for name in sorted(settings):
        if name not in reported:
            problems[name] = "not reported"
            continue
        status = reported[name].get("status")
        if status != RESOLVED:
            details = reported[name].get("details")
            problems[name] = f"{status}: {details}" if details else str(status)
    return problems


def _setting(item: Mapping[str, Any]) -> str | None:
    """The app setting an item reports on: its `name`, or the last segment of its `id`
    (.../config/configreferences/appsettings/<setting>) when the name is missing or is a path, as ARM
    child names sometimes are ("<site>/<setting>")."""
    for value in (item.get("name"), item.get("id")):
        if isinstance(value, str) and value.strip("/"):
            return value.rstrip("/").rsplit("/", 1)[-1]
    return None
