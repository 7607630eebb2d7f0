"""The wait for effective grants and the Key Vault reference check: their providers' logic, without Azure."""

import pytest

from stagewise.components import grant_propagation, reference_check
from stagewise.components.grant_propagation import GrantPropagation, GrantPropagationArgs
from tests.components.conftest import refused_before_any_resource

SITE = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/app"
SLOT = f"{SITE}/slots/green"


def test_the_wait_sleeps_once_per_new_set_of_grants(monkeypatch):
    slept = []
    monkeypatch.setattr(grant_propagation.time, "sleep", slept.append)
    provider = grant_propagation._WaitProvider()
    created = provider.create({"grants": ["g2", "g1"], "propagationSeconds": 600})
    assert slept == [600] and created.outs["grants"] == ["g2", "g1"]
    same = provider.diff(
        created.id,
        {"grants": ["g1", "g2"], "propagationSeconds": 600},
        {"grants": ["g2", "g1"], "propagationSeconds": 600},
    )
    assert not same.changes
    new_grant = provider.diff(
        created.id, {"grants": ["g1"], "propagationSeconds": 600}, {"grants": ["g1", "g3"], "propagationSeconds": 600}
    )
    assert new_grant.changes and new_grant.replaces == ["grants"]
    shorter = provider.diff(
        created.id, {"grants": ["g1"], "propagationSeconds": 600}, {"grants": ["g1"], "propagationSeconds": 300}
    )
    assert shorter.changes and not shorter.replaces
    provider.update(created.id, {}, {"grants": ["g1"], "propagationSeconds": 300})
    assert slept == [600]  # only a new grant waits


def test_a_wait_for_nothing_is_refused():
    refused_before_any_resource(
        lambda: GrantPropagation("grants", GrantPropagationArgs(grants=[])), "at least one role"
    )


def responses(*payloads):
    """A fake ARM: POST refresh answers {}, each GET answers the next payload (per site, in order)."""
    calls = []
    queue = list(payloads)

    def request(self, method, url, token):
        calls.append((method, url, token))
        return {} if method == "POST" else queue.pop(0)

    return calls, request


def resolved(*names):
    return {"value": [{"name": n, "properties": {"status": "Resolved"}} for n in names]}


PROPS = {"siteIds": [SITE, SLOT], "settings": ["JWT_SECRET"], "token": "t", "attempts": 3, "intervalSeconds": 0}


def test_the_check_refreshes_then_reads_every_site_and_passes_when_all_resolved(monkeypatch):
    calls, request = responses(resolved("JWT_SECRET"), resolved("JWT_SECRET"))
    monkeypatch.setattr(reference_check._CheckProvider, "_request", request)
    result = reference_check._CheckProvider().create(PROPS)
    assert [(m, u.split("/config/")[0].removeprefix("https://management.azure.com")) for m, u, _ in calls] == [
        ("POST", SITE),
        ("POST", SLOT),
        ("GET", SITE),
        ("GET", SLOT),
    ]
    assert all(token == "t" for *_, token in calls)
    assert "token" not in result.outs  # the token never reaches the state


def test_the_check_retries_and_then_fails_loudly_naming_site_setting_and_status(monkeypatch):
    denied = {"value": [{"name": "JWT_SECRET", "properties": {"status": "AccessToKeyVaultDenied", "details": "403"}}]}
    _, request = responses(*[denied, resolved("JWT_SECRET")] * 3)
    monkeypatch.setattr(reference_check._CheckProvider, "_request", request)
    monkeypatch.setattr(reference_check.time, "sleep", lambda _: None)
    with pytest.raises(Exception, match=f"{SITE}: JWT_SECRET: AccessToKeyVaultDenied: 403") as failure:
        reference_check._CheckProvider().create(PROPS)
    assert SLOT not in str(failure.value)


def test_the_check_runs_again_only_when_sites_settings_or_grants_change():
    provider = reference_check._CheckProvider()
    olds = {"siteIds": [SITE], "settings": ["A"], "after": "w1"}
    assert not provider.diff("id", olds, {**olds, "token": "new-token"}).changes
    for key, value in (("siteIds", [SITE, SLOT]), ("settings", ["A", "B"]), ("after", "w2")):
        assert provider.diff("id", olds, {**olds, key: value}).changes, key
