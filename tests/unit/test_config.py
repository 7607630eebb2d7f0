"""Stack config validation: every rule refuses its bad value with a message naming key, value and what is allowed."""

import copy

import pytest

from stagewise.core.config import ConfigError, SecretValue, StackConfig, parse
from stagewise.core.stackconfig import config_from_texts
from stagewise.formats import stackfile


def valid() -> dict:
    return {
        "environment": "production",
        "nameSeed": "t3stseed",
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


def test_the_name_seed_is_the_stack_files_own_never_the_secrets_providers_salt():
    from stagewise.core.config import from_engine
    from stagewise.formats.stackfile import as_engine_config

    values = as_engine_config({f"stagewise:{k}": v for k, v in valid().items() if k != "secrets"})
    # Whatever the salt, the seed is the one written in the stack file.
    assert from_engine(values, set(), "v1:salt=").name_seed == from_engine(values, set(), "v1:other=").name_seed
    assert from_engine(values, set(), "v1:salt=").name_seed == "t3stseed"
    assert from_engine({**values, "stagewise:nameSeed": ""}, set(), "v1:salt=").name_seed == ""


@pytest.mark.parametrize("environment", ["dev", "staging", "production"])
def test_an_azure_stack_without_a_name_seed_is_refused_with_how_to_get_one(environment):
    raw = {k: v for k, v in valid().items() if k != "nameSeed"}
    message = problems({**raw, "environment": environment})
    assert "stagewise:nameSeed is missing: an Azure stack needs a seed of its own in its stack file" in message
    assert "pulumi config set stagewise:nameSeed $(python3 -m stagewise.core.naming --new)" in message
    assert "python3 -m stagewise.core.naming Pulumi.<stack>.yaml" in message


def test_a_kubernetes_stack_needs_no_name_seed():
    raw = {k: v for k, v in valid().items() if k not in ("nameSeed", "secrets")}
    assert parse({**raw, "environment": "local"}).name_seed is None


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


# Values read the way the engine hands them to the program (pulumi sdk/go/common/resource/config/object.go,
# MarshalString): a top-level scalar as its text, a structure as JSON.


def _from_stack_file(lines: str, stack: str = "dev") -> StackConfig:
    """A stack's config with `lines` put first under `config:` in place of the keys they set."""
    root = stackfile.project_root()
    text = (root / f"Pulumi.{stack}.yaml").read_text()
    for line in lines.splitlines():
        key = line.split(":", 2)[0] + ":" + line.split(":", 2)[1] + ":"
        kept, inside = [], False
        for x in text.splitlines():
            inside = x.startswith(key) or (inside and x.startswith("    "))  # the key and its block
            if not inside:
                kept.append(x)
        text = "\n".join(kept) + "\n"
    text = text.replace("config:\n", "config:\n" + lines + "\n", 1)
    return config_from_texts((root / "Pulumi.yaml").read_text(), text, f"Pulumi.{stack}.yaml")


@pytest.mark.parametrize("written", ['"2024"', "'2024'", "2024"], ids=["double", "single", "plain"])
def test_a_number_like_name_seed_or_cost_centre_is_the_text_the_engine_hands_over(written):
    # The engine hands all three over as the text 2024 (a top-level scalar is text to it).
    cfg = _from_stack_file(f"  stagewise:nameSeed: {written}\n  stagewise:costCentre: {written}").model_copy()
    assert (cfg.name_seed, cfg.cost_centre) == ("2024", "2024")


def test_ports_are_compared_after_they_are_read():
    cfg = _from_stack_file('  stagewise:port: 8080\n  stagewise:kubernetes: {port: "8080"}')
    assert cfg.port == cfg.kubernetes.port == 8080
    with pytest.raises(ConfigError, match=r"kubernetes.port \(8081\) differs from port \(8080\)"):
        _from_stack_file('  stagewise:port: 8080\n  stagewise:kubernetes: {port: "8081"}')


@pytest.mark.parametrize(
    "lines, expected",
    [
        ("  stagewise:analysis: {errorRateRatio: true}", "analysis.errorRateRatio: must be a number, got true"),
        ("  stagewise:port: true", "stagewise:port: must be a whole number, got true"),
        ("  stagewise:analysis: {latencyBoundsMs: [5, true]}", "must hold numbers, got true"),
        ("  stagewise:analysis: {latencyP95AbortMs: .inf}", "analysis.latencyP95AbortMs: Input should be a finite"),
        ("  stagewise:protect: 'yes'", "stagewise:protect: must be true or false, got 'yes'"),
    ],
    ids=["ratio-true", "port-true", "bound-true", "inf", "yes-is-no-boolean"],
)
def test_booleans_are_not_numbers_and_numbers_are_finite(lines, expected):
    with pytest.raises(ConfigError) as err:
        _from_stack_file(lines)
    assert expected in str(err.value)


@pytest.mark.parametrize(
    "lines, expected",
    [
        ("  stagewise:analysis: {bake: 9999999999d}", "'9999999999d' is longer than the 365d a duration may be"),
        ("  stagewise:analysis: {timeout: 1000000d}", "'1000000d' is longer than the 365d"),
        ("  stagewise:analysis: {timeout: 10m}", "timeout (10m) must be between 1s and 5m"),
        ("  stagewise:analysis: {latencyBoundsMs: [5, .inf]}", "Input should be a finite number"),
        ("  stagewise:analysis: {url: 'http://prom:9090/a b'}", "is not an http:// or https:// URL without spaces"),
    ],
    ids=["bake-overflow", "timeout-million-days", "timeout-above-5m", "infinite-bound", "url-with-space"],
)
def test_durations_bounds_and_urls_have_a_limit(lines, expected):
    with pytest.raises(ConfigError) as err:
        _from_stack_file(lines, "local")
    assert expected in str(err.value)


def test_at_most_a_hundred_latency_bounds():
    bounds = ", ".join(str(5 + i) for i in range(20000))
    with pytest.raises(ConfigError, match="latencyBoundsMs: holds 20000 bounds; at most 100"):
        _from_stack_file(f"  stagewise:analysis: {{latencyBoundsMs: [{bounds}]}}", "local")


def test_a_url_with_credentials_is_never_echoed():
    with pytest.raises(ConfigError) as err:
        _from_stack_file("  stagewise:analysis: {url: 'http://ci:hunter2@prom:9090/a b'}", "local")
    assert "hunter2" not in str(err.value) and "***@prom" in str(err.value)


@pytest.mark.parametrize(
    "space, reserved",
    [
        ("224.0.0.0/8", "224.0.0.0/4, multicast"),
        ("127.0.0.0/8", "127.0.0.0/8, loopback"),
        ("169.254.0.0/16", "169.254.0.0/16, link local"),
        ("0.0.0.0/8", "0.0.0.0/8, 'this network'"),
        ("168.63.0.0/16", "168.63.129.16/32, Azure's internal DNS"),
        ("255.255.255.0/24", "255.255.255.255/32, broadcast"),
    ],
)
def test_address_spaces_azure_reserves_are_refused(space, reserved):
    regions = [{"name": "westeurope", "weight": 100, "addressSpace": space}]
    message = problems({**valid(), "regions": regions})
    assert f"stagewise:regions[0].addressSpace: {space!r} overlaps {reserved}" in message
    assert "private range" in message


@pytest.mark.parametrize(
    "selector, expected",
    [
        ({"bad key!": "x"}, "key 'bad key!' is not a Kubernetes label key"),
        ({"": "x"}, "key '' is not a Kubernetes label key"),
        ({"Example.com/x": "y"}, "key 'Example.com/x' is not a Kubernetes label key"),
        ({"k": "v" * 64}, "is not a Kubernetes label value"),
        ({"k": "-v"}, "value '-v' (of 'k') is not a Kubernetes label value"),
    ],
    ids=["space-and-bang", "empty-key", "upper-case-prefix", "64-characters", "leading-dash"],
)
def test_node_selectors_the_api_server_refuses_are_refused(selector, expected):
    message = problems({**valid(), "environment": "local", "kubernetes": {"nodeSelector": selector}})
    assert "stagewise:kubernetes.nodeSelector" in message and expected in message


def test_node_selectors_the_api_server_takes_are_taken():
    selector = {"stagewise.dev/data-plane": "real", "kubernetes.io/os": "linux", "tier": "", "a_b.c-d": "X1"}
    cfg = parse({**valid(), "environment": "local", "kubernetes": {"nodeSelector": selector}})
    assert cfg.kubernetes.node_selector == selector


@pytest.mark.parametrize(
    "environment, change, expected",
    [
        ("dev", {"kubernetes": {"nodeSelector": {"a": "b"}}}, "kubernetes.nodeSelector: the dev stack runs on Azure"),
        ("local", {"registry": {"createAcr": True}}, "registry.createAcr: the local stack runs on Kubernetes"),
        (
            "dev",
            {"regions": [{"name": "westeurope", "weight": 100, "addressSpace": "10.9.0.0/16"}]},
            "regions.addressSpace (region 'westeurope'): the dev stack builds no virtual network",
        ),
    ],
    ids=["node-selector-on-dev", "create-acr-on-local", "address-space-on-dev"],
)
def test_keys_meaningless_on_the_stacks_platform_are_refused(environment, change, expected):
    raw = {**valid(), "environment": environment, **change}
    if environment == "local":
        raw["release"] = {**raw["release"], "image": "demo"}
    assert expected in problems(raw)


@pytest.mark.parametrize(
    "url", ["http://ci:hunter2@prom:9090", "https://prom.example.com/?access_token=hunter2", "http://hunter2@prom"]
)
def test_credentials_in_the_metrics_url_are_refused_and_never_echoed(url):
    with pytest.raises(ConfigError) as err:
        _from_stack_file(f"  stagewise:analysis: {{url: '{url}'}}", "local")
    message = str(err.value)
    assert "hunter2" not in message and "***" in message
    assert "carries credentials" in message and "bearerTokenSecret" in message


def test_prometheus_signs_in_with_a_stack_secret():
    cfg = _from_stack_file("  stagewise:analysis: {bearerTokenSecret: jwt-secret}", "local")
    assert cfg.analysis.bearer_token_secret == "jwt-secret"
    cfg = _from_stack_file("  stagewise:analysis: {basicAuthUser: ci, basicAuthPasswordSecret: jwt-secret}", "local")
    assert (cfg.analysis.basic_auth_user, cfg.analysis.basic_auth_password_secret) == ("ci", "jwt-secret")


@pytest.mark.parametrize(
    "analysis, expected",
    [
        ("{bearerTokenSecret: nope}", "analysis.bearerTokenSecret: 'nope' is not an entry of stagewise:secrets"),
        ("{basicAuthUser: ci}", "basicAuthUser and basicAuthPasswordSecret go together"),
        (
            "{bearerTokenSecret: jwt-secret, basicAuthUser: ci, basicAuthPasswordSecret: jwt-secret}",
            "Prometheus takes one way to sign in",
        ),
    ],
    ids=["not-a-secret", "user-alone", "both-ways"],
)
def test_metrics_credentials_rules(analysis, expected):
    with pytest.raises(ConfigError) as err:
        _from_stack_file(f"  stagewise:analysis: {analysis}", "local")
    assert expected in str(err.value)


def test_metrics_credentials_are_for_prometheus_only():
    with pytest.raises(ConfigError, match="bearerTokenSecret is for provider prometheus"):
        _from_stack_file("  stagewise:analysis: {bearerTokenSecret: jwt-secret}")


def test_redaction_hides_user_password_and_tokens_and_keeps_the_rest():
    from stagewise.core.redact import redact_text, redact_url

    assert redact_url("http://u:p@prom:9090/api?q=up") == "http://***@prom:9090/api?q=up"
    assert (
        redact_url("https://h/x?access_token=t&api_key=k&step=60") == "https://h/x?access_token=***&api_key=***&step=60"
    )
    assert redact_url("http://127.0.0.1:9090") == "http://127.0.0.1:9090"
    assert (
        redact_text("GET http://u:p@h:1/x failed; retry http://h/y") == "GET http://***@h:1/x failed; retry http://h/y"
    )


def test_a_region_too_light_for_the_first_stage_is_refused():
    raw = {**valid(), "regions": [{"name": "westeurope", "weight": 1000}, {"name": "northeurope", "weight": 10}]}
    message = problems(raw)
    assert "region 'northeurope''s weight times the smallest stage (5 %) gives a Front Door weight of 0.50" in message
    assert "at least 1/50 of the heaviest region's" in message
    raw["regions"][1]["weight"] = 20
    assert parse(raw).regions[1].weight == 20


def test_a_dotted_key_written_without_path_says_how_to_write_it():
    with pytest.raises(ConfigError) as err:
        _from_stack_file("  stagewise:release.stage: canary")
    assert (
        "stagewise:release.stage: unknown key; to set release.stage inside stagewise:release, write it under "
        "that mapping, or run pulumi config set --path 'stagewise:release.stage' <value>"
    ) in str(err.value)


def test_inside_a_mapping_the_files_types_stand():
    with pytest.raises(ConfigError, match=r"stagewise:kubernetes.namespace: Input should be a valid string \(got 42\)"):
        _from_stack_file("  stagewise:kubernetes: {namespace: 42}", "local")


def test_a_webhook_with_white_space_is_refused():
    with pytest.raises(ConfigError, match=r"webhook 'https://hooks.example.com/a b' holds white space"):
        _from_stack_file(
            '  stagewise:alerts: {emails: [a@b.co], webhooks: ["https://hooks.example.com/a b"]}', "production"
        )


@pytest.mark.parametrize("value", ["-5", "true", "'3'"])
def test_a_retired_key_converts_only_a_value_that_converts(value):
    with pytest.raises(ConfigError) as err:
        _from_stack_file(f"  stagewise:analysis: {{errorRateIncreasePoints: {value}}}")
    assert "is no longer read" in str(err.value) and "points at a 1 % baseline" not in str(err.value)
