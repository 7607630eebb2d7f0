"""Web app and slot rules: HTTPS only, TLS >= 1.2, FTPS disabled, managed identity, no plain-text secrets."""

import pytest

from stagewise.policy.resource_types import APP_SETTINGS_RESOURCES
from stagewise.policy.settings import Settings
from stagewise.policy.webapps import (
    app_settings_without_secrets,
    webapp_ftps_disabled,
    webapp_https_only,
    webapp_managed_identity,
    webapp_min_tls,
)

SETTINGS = Settings()
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
REFERENCE = "@Microsoft.KeyVault(SecretUri=https://kv-stagewise.vault.azure.net/secrets/jwt-secret/)"


def webapp(**overrides) -> dict:
    props = {
        "httpsOnly": True,
        "identity": {"type": "SystemAssigned"},
        "siteConfig": {
            "minTlsVersion": "1.2",
            "ftpsState": "Disabled",
            "appSettings": [
                {"name": "STAGEWISE_COLOUR", "value": "blue"},
                {"name": "LOG_LEVEL", "value": "warning"},
                {"name": "FEATURE_NEW_CHECKOUT", "value": "false"},
                {"name": "JWT_SECRET", "value": REFERENCE},
                {
                    "name": "APPLICATIONINSIGHTS_CONNECTION_STRING",
                    "value": "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://x/",
                },
            ],
        },
        "tags": {"environment": "production"},
    }
    for key, value in overrides.items():
        if key in ("minTlsVersion", "ftpsState", "appSettings"):
            if value is None:
                props["siteConfig"].pop(key)
            else:
                props["siteConfig"][key] = value
        elif value is None:
            props.pop(key)
        else:
            props[key] = value
    return props


def settings_pairs(**pairs) -> list[dict]:
    return [{"name": name, "value": value} for name, value in pairs.items()]


SECRETS = app_settings_without_secrets("azure-native:web:WebApp")

ALL_RULES = [
    webapp_https_only,
    webapp_min_tls,
    webapp_ftps_disabled,
    webapp_managed_identity,
    SECRETS,
]


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.__name__)
def test_compliant_web_app_passes_every_rule(rule):
    assert rule(webapp(), SETTINGS) == []


def test_https_only_off_fails():
    assert webapp_https_only(webapp(httpsOnly=False), SETTINGS) == [
        "web app must redirect HTTP to HTTPS: set httpsOnly to true (got False)"
    ]


def test_https_only_not_set_fails():
    assert webapp_https_only(webapp(httpsOnly=None), SETTINGS) == [
        "web app must redirect HTTP to HTTPS: set httpsOnly to true (got not set)"
    ]


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_tls_1_2_and_above_pass(version):
    assert webapp_min_tls(webapp(minTlsVersion=version), SETTINGS) == []


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_tls_below_1_2_fails(version):
    assert webapp_min_tls(webapp(minTlsVersion=version), SETTINGS) == [
        f"web app must refuse TLS below 1.2: set siteConfig.minTlsVersion to '1.2' or '1.3' (got '{version}')"
    ]


def test_tls_not_set_fails():
    [message] = webapp_min_tls(webapp(minTlsVersion=None), SETTINGS)
    assert message.endswith("(got not set)")


def test_web_app_without_site_config_fails_tls_rather_than_crashing():
    [message] = webapp_min_tls({"httpsOnly": True}, SETTINGS)
    assert message.endswith("(got not set)")


def test_tls_version_is_compared_as_a_version_not_text():
    # "1.10" > "1.2" as versions, "1.10" < "1.2" as strings.
    assert webapp_min_tls(webapp(minTlsVersion="1.10"), SETTINGS) == []


@pytest.mark.parametrize("state", ["AllAllowed", "FtpsOnly"])
def test_ftp_or_ftps_allowed_fails(state):
    assert webapp_ftps_disabled(webapp(ftpsState=state), SETTINGS) == [
        f"web app must not accept FTP or FTPS deployments: set siteConfig.ftpsState to 'Disabled' (got '{state}')"
    ]


def test_ftps_state_not_set_fails():
    # Azure's default is AllAllowed.
    [message] = webapp_ftps_disabled(webapp(ftpsState=None), SETTINGS)
    assert message.endswith("(got not set)")


@pytest.mark.parametrize("kind", ["SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned"])
def test_any_managed_identity_passes(kind):
    assert webapp_managed_identity(webapp(identity={"type": kind}), SETTINGS) == []


def test_identity_none_fails():
    assert webapp_managed_identity(webapp(identity={"type": "None"}), SETTINGS) == [
        "web app needs a managed identity to read Key Vault references: set identity.type to one of "
        "'SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned' (got 'None')"
    ]


def test_identity_not_set_fails():
    [message] = webapp_managed_identity(webapp(identity=None), SETTINGS)
    assert message.endswith("(got not set)")


def test_secret_named_setting_in_plain_text_fails():
    props = webapp(appSettings=settings_pairs(DB_PASSWORD="hunter2-but-longer"))
    assert SECRETS(props, SETTINGS) == [
        "app setting 'DB_PASSWORD' looks like a secret in plain text (its name ends in 'password'): "
        "store it in Key Vault and set the value to a reference, "
        "@Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/secrets/<name>)"
    ]


def test_secret_message_never_contains_the_value():
    value = "s3cr3t-value-that-must-not-leak"
    [message] = SECRETS(webapp(appSettings=settings_pairs(ApiKey=value)), SETTINGS)
    assert value not in message


@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD",
        "db_passwd",
        "SMTP_PWD",
        "CLIENT_SECRET",
        "clientSecret",
        "GITHUB_TOKEN",
        "ApiKey",
        "JWT_SIGNING_KEY",
        "STORAGE_ACCESS_KEY",
        "SERVICE_CREDENTIALS",
        "GPG_PASSPHRASE",
    ],
)
def test_secret_names_are_recognised(name):
    [message] = SECRETS(webapp(appSettings=settings_pairs(**{name: "some-value-123"})), SETTINGS)
    assert f"app setting {name!r} looks like a secret" in message


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("Server=tcp:db;Database=app;User ID=app;Password=p4ss;", "it is a connection string with a credential"),
        (
            "DefaultEndpointsProtocol=https;AccountName=st;AccountKey=abc123==;",
            "it is a connection string with a credential",
        ),
        (
            "Endpoint=sb://bus/;SharedAccessKeyName=send;SharedAccessKey=abc=",
            "it is a connection string with a credential",
        ),
        ("postgres://app:p4ss@db.example.com:5432/app", "it is a URL with a password in it"),
        (
            "https://st.blob.core.windows.net/c?sv=2022-11-02&sig=AbCdEfGhIjKlMnOpQrStUv%3D",
            "it is a URL with a SAS signature",
        ),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE...", "it contains a private key"),
        ("ghp_" + "a" * 36, "it has the shape of an access token"),
        ("AKIA" + "ABCDEFGHIJKLMNOP", "it has the shape of an access token"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "it has the shape of an access token",
        ),
    ],
    ids=["sql", "storage", "service-bus", "url-password", "sas", "pem", "github", "aws", "jwt"],
)
def test_secret_shaped_values_fail_whatever_the_name(value, reason):
    [message] = SECRETS(webapp(appSettings=settings_pairs(UPSTREAM=value)), SETTINGS)
    assert f"({reason})" in message


@pytest.mark.parametrize(
    "reference",
    [
        REFERENCE,
        "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/db/0123456789abcdef)",
        "@Microsoft.KeyVault(VaultName=kv-stagewise;SecretName=db-password)",
        "@Microsoft.KeyVault(VaultName=kv-stagewise;SecretName=db-password;SecretVersion=0123abcd)",
    ],
)
def test_key_vault_references_pass_under_secret_names(reference):
    assert SECRETS(webapp(appSettings=settings_pairs(DB_PASSWORD=reference)), SETTINGS) == []


@pytest.mark.parametrize(
    "value",
    [
        "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/db/) trailing",
        "prefix @Microsoft.KeyVault(VaultName=kv;SecretName=db)",
        "@Microsoft.KeyVault()",
    ],
)
def test_text_that_only_contains_a_reference_is_not_a_reference(value):
    assert len(SECRETS(webapp(appSettings=settings_pairs(DB_PASSWORD=value)), SETTINGS)) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("APPINSIGHTS_INSTRUMENTATIONKEY", "00000000-0000-0000-0000-000000000000"),
        ("KEY_VAULT_URI", "https://kv.vault.azure.net/"),
        ("TOKEN_LIFETIME_MINUTES", "15"),
        ("USE_TOKEN", "true"),
        ("DB_PASSWORD", ""),
        ("WEBSITES_ENABLE_APP_SERVICE_STORAGE", "false"),
        ("UPSTREAM_URL", "https://api.example.com/v1?page=2"),
    ],
)
def test_ordinary_settings_pass(name, value):
    assert SECRETS(webapp(appSettings=settings_pairs(**{name: value})), SETTINGS) == []


def test_every_offending_setting_is_reported():
    props = webapp(appSettings=settings_pairs(A_PASSWORD="x1y2z3w4", B_TOKEN="x1y2z3w4", LOG_LEVEL="info"))
    messages = SECRETS(props, SETTINGS)
    assert [m.split(" looks")[0] for m in messages] == ["app setting 'A_PASSWORD'", "app setting 'B_TOKEN'"]


def test_setting_values_unknown_during_preview_are_left_for_up():
    assert SECRETS(webapp(appSettings=settings_pairs(DB_PASSWORD=UNKNOWN_STRING)), SETTINGS) == []


@pytest.mark.parametrize("app_settings", [None, [], [{"name": "DB_PASSWORD"}]], ids=["absent", "empty", "no-value"])
def test_missing_or_partial_app_settings_are_handled(app_settings):
    assert SECRETS(webapp(appSettings=app_settings), SETTINGS) == []


def test_setting_without_a_name_is_still_checked_by_value():
    [message] = SECRETS(webapp(appSettings=[{"value": "Password=x;"}]), SETTINGS)
    assert message.startswith("app setting '?' looks like a secret in plain text (it is a connection string")


@pytest.mark.parametrize("resource_type", APP_SETTINGS_RESOURCES)
def test_application_settings_resources_are_checked_too(resource_type):
    check = app_settings_without_secrets(resource_type)
    props = {"name": "app", "properties": {"DB_PASSWORD": "p4ssw0rd!", "JWT_SECRET": REFERENCE}}
    [message] = check(props, SETTINGS)
    assert message.startswith("app setting 'DB_PASSWORD' looks like a secret")
