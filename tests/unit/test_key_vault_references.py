"""Reading the config references API: which references did not resolve, and why."""

from stagewise.core import key_vault_references as kvr


def test_every_setting_resolved_is_no_problem():
    payload = {
        "value": [
            {"name": "A", "properties": {"status": "Resolved"}},
            {"name": "B", "properties": {"status": "Resolved"}},
        ]
    }
    assert kvr.unresolved(payload, ["A", "B"]) == {}


def test_each_unresolved_or_missing_setting_is_named_with_its_status():
    payload = {
        "value": [
            {"name": "A", "properties": {"status": "AccessToKeyVaultDenied", "details": "403"}},
            {"name": "C", "properties": {"status": "Resolved"}},
            {"name": "D", "properties": {"status": "Initialized"}},
        ]
    }
    assert kvr.unresolved(payload, ["A", "B", "D"]) == {
        "A": "AccessToKeyVaultDenied: 403",
        "B": "not reported",
        "D": "Initialized",
    }


def test_urls_name_the_site_and_the_documented_operations():
    site = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/app/slots/green"
    assert (
        kvr.references_url(site)
        == f"https://management.azure.com{site}/config/configreferences/appsettings?api-version=2022-03-01"
    )
    assert kvr.refresh_url(site).endswith("/config/configreferences/appsettings/refresh?api-version=2022-03-01")


def test_an_item_without_a_plain_name_is_read_by_the_last_segment_of_its_id():
    site = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/app"
    payload = {
        "value": [
            {"id": f"{site}/config/configreferences/appsettings/A", "properties": {"status": "Resolved"}},
            {"name": "app/B", "properties": {"status": "Resolved"}},
            {"id": f"{site}/config/configreferences/appsettings/C", "name": None, "properties": {"status": "Failed"}},
            {"properties": {"status": "Resolved"}},
        ]
    }
    assert kvr.unresolved(payload, ["A", "B", "C"]) == {"C": "Failed"}
