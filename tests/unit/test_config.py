"""Stack config validation: every rule refuses its bad value with a message naming key, value and what is allowed."""

import copy

import pytest

from stagewise.core.config import ConfigError, SecretValue, parse


def valid() -> dict:
    return {
        "environment": "production",
        "owner": "platform-team",
        "costCentre": "cc-1",
        "release": {"image": "demo", "blue": "1.4.2", "green": "1.5.0", "live": "blue", "stage": "quarter"},
        "stages": [
            {"name": "canary", "weight": 5},
            {"name": "quarter", "weight": 25},
            {"name": "full", "weight": 100},
        ],
        "secrets": {"jwt-secret": SecretValue("s3cr3t")},
    }


def with_change(path: str, value) -> dict:
    raw = copy.deepcopy(valid())
    *parents, leaf = path.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {}) if not part.isdigit() else node[int(part)]
    if leaf.isdigit():
        node[int(leaf)] = value
    else:
        node[leaf] = value
    return raw


def problems(raw: dict) -> str:
    with pytest.raises(ConfigError) as err:
        parse(raw)
    return str(err.value)


def test_valid_config_parses_with_tier_defaults():
    cfg = parse(valid())
    assert cfg.autoscale.enabled and (cfg.autoscale.minimum, cfg.autoscale.maximum) == (3, 10)
    assert cfg.autoscale.cpu_scale_out == 70
    assert cfg.vault.purge_protection and cfg.vault.network_default_action == "Deny"
    assert cfg.protect is True
    assert cfg.catalog.names == ["idle", "canary", "quarter", "full"]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("environment", "prod", ["stagewise:environment", "'prod'", "'dev'", "'production'", "'local'"]),
        ("release.stage", "halfway", ["stagewise:release", "'halfway'", "idle, canary, quarter, full"]),
        ("stages.1.weight", 5, ["stagewise:stages", "strictly increasing", "[5, 5, 100]"]),
        ("stages.2.weight", 120, ["stagewise:stages[2].weight", "less than or equal to 100", "120"]),
        ("stages.0.weight", -1, ["stagewise:stages[0].weight", "greater than or equal to 0", "-1"]),
        ("release.live", "red", ["stagewise:release.live", "'blue' or 'green'", "'red'"]),
        ("release.green", None, ["stagewise:release", "'quarter' sends 25 % to 'green'", "no version"]),
        ("autoscale", {"minimum": 4, "default": 3}, ["stagewise:autoscale", "minimum (4) must be <= default (3)"]),
        ("autoscale", {"default": 11}, ["stagewise:autoscale", "default (11) must be <= maximum (10)"]),
        ("autoscale", {"maximum": 40}, ["autoscale.maximum (40)", "30 instances", "P1v3"]),
        ("appService", {"sku": "B1"}, ["stagewise:appService.sku", "'B1'", "no deployment slots", "S1"]),
        ("appService", {"sku": "X9"}, ["stagewise:appService.sku", "unknown App Service SKU 'X9'", "P1v3"]),
        ("traffic", {"ttl": -1}, ["stagewise:traffic.ttl", "greater than or equal to 0", "-1"]),
        ("traffic", {"probe": {"interval": 20}}, ["stagewise:traffic.probe.interval", "10 or 30", "20"]),
        (
            "traffic",
            {"probe": {"interval": 10, "timeout": 10}},
            ["stagewise:traffic.probe", "timeout (10 s) must be 5..9 s when interval is 10 s"],
        ),
        (
            "traffic",
            {"probe": {"toleratedFailures": 10}},
            ["stagewise:traffic.probe.toleratedFailures", "less than or equal to 9", "10"],
        ),
        ("vault", {"retentionDays": 6}, ["stagewise:vault.retentionDays", "greater than or equal to 7", "6"]),
        ("vault", {"retentionDays": 91}, ["stagewise:vault.retentionDays", "less than or equal to 90", "91"]),
        (
            "secrets",
            {"jwt_secret": SecretValue("x")},
            ["stagewise:secrets", "'jwt_secret'", "letters, digits and hyphens"],
        ),
        (
            "secrets",
            {"jwt-secret": "plain"},
            [
                "stagewise:secrets",
                "'jwt-secret' is in plain text",
                "pulumi config set --secret --path 'stagewise:secrets.jwt-secret'",
            ],
        ),
    ],
    ids=[
        "unknown-environment",
        "unknown-stage",
        "weights-not-increasing",
        "weight-above-100",
        "weight-below-0",
        "live-not-a-colour",
        "stage-to-colour-without-version",
        "autoscale-min-above-default",
        "autoscale-default-above-max",
        "instances-above-sku-max",
        "sku-without-slots",
        "unknown-sku",
        "ttl-out-of-range",
        "probe-interval",
        "probe-timeout",
        "tolerated-failures",
        "retention-below-7",
        "retention-above-90",
        "secret-name",
        "plaintext-secret",
    ],
)
def test_bad_value_is_refused_with_its_key_value_and_what_is_allowed(path, value, expected):
    message = problems(with_change(path, value))
    for fragment in expected:
        assert fragment in message


def test_unknown_key_is_named():
    assert "stagewise:autoscale.maxInstances: unknown key" in problems(with_change("autoscale", {"maxInstances": 3}))


def test_every_problem_is_reported_at_once():
    raw = with_change("release.live", "red")
    raw["traffic"] = {"ttl": -1}
    err = pytest.raises(ConfigError, parse, raw).value
    assert [p.split(":")[1].split(" ")[0] for p in err.problems] == ["release.live", "traffic.ttl"]


def test_idle_stage_cannot_carry_traffic():
    raw = valid()
    raw["stages"].insert(0, {"name": "idle", "weight": 5})
    assert "stage 'idle' is always 0 %, got 5" in problems(raw)


def test_only_idle_may_be_zero():
    raw = valid()
    raw["stages"][0]["weight"] = 0
    assert "only stage 'idle' may be 0 %" in problems(raw)


def test_stack_file_overrides_tier_default():
    raw = with_change("autoscale", {"maximum": 20})
    assert parse(raw).autoscale.maximum == 20


@pytest.mark.parametrize(
    ("environment", "log_level", "autoscale", "purge_protection", "protect"),
    [
        ("dev", "debug", False, False, False),
        ("staging", "info", False, True, False),
        ("production", "warning", True, True, True),
    ],
)
def test_tier_defaults(environment, log_level, autoscale, purge_protection, protect):
    raw = valid() | {"environment": environment}
    cfg = parse(raw)
    assert (cfg.log_level, cfg.autoscale.enabled, cfg.vault.purge_protection, cfg.protect) == (
        log_level,
        autoscale,
        purge_protection,
        protect,
    )


def test_secret_value_never_shows_in_repr():
    cfg = parse(valid())
    assert "s3cr3t" not in repr(cfg)
    assert cfg.secrets["jwt-secret"].reveal() == "s3cr3t"


def test_a_malformed_secrets_section_never_echoes_the_value():
    message = problems(with_change("secrets", "hunter2-in-plain-text"))
    assert "stagewise:secrets" in message and "valid dictionary" in message
    assert "hunter2" not in message


def test_one_region_by_default_the_location_at_weight_100():
    cfg = parse({**valid(), "location": "northeurope"})
    assert [(r.name, r.weight) for r in cfg.regions] == [("northeurope", 100)]


def test_regions_as_given():
    cfg = parse({**valid(), "regions": [{"name": "westeurope", "weight": 60}, {"name": "northeurope", "weight": 0}]})
    assert [(r.name, r.weight) for r in cfg.regions] == [("westeurope", 60), ("northeurope", 0)]


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        (
            [{"name": "westeurope", "weight": 50}, {"name": "westeurope", "weight": 50}],
            ["stagewise:regions", "region 'westeurope' appears more than once"],
        ),
        ([{"name": "westeurope", "weight": 0}], ["stagewise:regions", "at least one region must take traffic"]),
        (
            [{"name": "westeurope", "weight": 1001}],
            ["stagewise:regions[0].weight", "less than or equal to 1000", "1001"],
        ),
        ([{"name": "westeurope", "weight": -1}], ["stagewise:regions[0].weight", "greater than or equal to 0", "-1"]),
        (
            [{"name": "West Europe", "weight": 10}],
            ["stagewise:regions[0].name", "should match pattern", "'West Europe'"],
        ),
        ([{"name": "westeurope"}], ["stagewise:regions[0].weight", "Field required"]),
    ],
    ids=["duplicate", "all-drained", "weight-above-1000", "weight-below-0", "name-not-a-region", "weight-missing"],
)
def test_bad_regions_are_refused_naming_the_key(regions, expected):
    message = problems({**valid(), "regions": regions})
    for fragment in expected:
        assert fragment in message


def test_vault_name_suffix_gives_a_new_vault_name():
    from stagewise.core import naming

    assert parse(with_change("vault", {"nameSuffix": "r2"})).vault.name_suffix == "r2"
    assert naming.vault_name("p", "production", "secrets", "r2") != naming.vault_name("p", "production", "secrets")
    assert naming.vault_name("p", "production", "secrets", "") == naming.vault_name("p", "production", "secrets")
    assert "stagewise:vault.nameSuffix" in problems(with_change("vault", {"nameSuffix": "Not-Valid"}))


def test_the_name_seed_defaults_to_the_installation_and_an_explicit_one_wins():
    from stagewise.core import naming
    from stagewise.core.config import from_engine
    from stagewise.formats.stackfile import as_engine_config

    values = as_engine_config({f"stagewise:{k}": v for k, v in valid().items() if k != "secrets"})
    assert from_engine(values, set(), "v1:salt=").name_seed == naming.installation_seed("v1:salt=")
    assert from_engine(values, set()).name_seed == ""
    assert from_engine({**values, "stagewise:nameSeed": ""}, set(), "v1:salt=").name_seed == ""


def test_a_name_seed_outside_lower_case_letters_and_digits_is_refused():
    message = problems(with_change("nameSeed", "Team-1"))
    assert "stagewise:nameSeed" in message and "'Team-1'" in message


def test_log_alerts_need_the_stage_gates_request_count_by_default():
    cfg = parse(valid())
    assert cfg.alerts.min_requests is None and cfg.alert_min_requests == cfg.analysis.min_requests == 250
    assert parse(with_change("alerts.minRequests", 40)).alert_min_requests == 40


def test_log_alerts_on_a_handful_of_requests_are_refused():
    assert "stagewise:alerts.minRequests" in problems(with_change("alerts.minRequests", 3))
    message = problems(with_change("analysis.minRequests", 5))
    assert "stagewise:alerts.minRequests: defaults to analysis.minRequests (5)" in message and "10" in message


def test_each_region_gets_an_address_space_of_its_own():
    from stagewise.core.config import address_spaces, integration_subnet

    raw = valid()
    raw["regions"] = [
        {"name": "westeurope", "weight": 60},
        {"name": "northeurope", "weight": 40, "addressSpace": "172.16.0.0/20"},
    ]
    cfg = parse(raw)
    assert address_spaces(cfg.regions) == {"westeurope": "10.0.0.0/16", "northeurope": "172.16.0.0/20"}
    assert integration_subnet("172.16.0.0/20") == "172.16.0.0/24" and integration_subnet("10.9.9.0/24") == "10.9.9.0/24"


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        (
            "10.0.128.0/17",
            ["stagewise:regions", "'westeurope' (10.0.0.0/16)", "'northeurope' (10.0.128.0/17)", "overlapping"],
        ),
        ("10.1.0.1/16", ["stagewise:regions[1].addressSpace", "'10.1.0.1/16'", "base address"]),
        ("10.1.0.0/26", ["stagewise:regions[1].addressSpace", "/8../24"]),
    ],
)
def test_overlapping_or_unusable_address_spaces_are_refused(space, expected):
    raw = valid()
    raw["regions"] = [
        {"name": "westeurope", "weight": 60},
        {"name": "northeurope", "weight": 40, "addressSpace": space},
    ]
    message = problems(raw)
    for part in expected:
        assert part in message, message


def test_one_port_for_both_platforms():
    cfg = parse(with_change("port", 3000))
    assert cfg.port == cfg.kubernetes.port == 3000
    assert parse(valid()).port == parse(valid()).kubernetes.port == 8080
    message = problems({**with_change("port", 3000), "kubernetes": {"port": 8080}})
    assert "kubernetes.port (8080) differs from port (3000)" in message


def test_kubernetes_left_empty():
    # Beside port, an empty section reads as the section's common defaults (not the tier's).
    cfg = parse({**valid(), "environment": "dev", "port": 3000, "kubernetes": None})
    assert (cfg.kubernetes.port, cfg.kubernetes.min_replicas, cfg.kubernetes.cpu_request) == (3000, 1, "100m")
    assert "stagewise:kubernetes: Input should be a valid dictionary" in problems({**valid(), "kubernetes": None})


def test_kubernetes_port_alone_keeps_the_default_port():
    cfg = parse(with_change("kubernetes", {"port": 9000}))
    assert (cfg.port, cfg.kubernetes.port) == (8080, 9000)
