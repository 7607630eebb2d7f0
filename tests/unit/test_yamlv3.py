"""Stack files read as the engine reads them (yaml.v3): typing, refusals, aliases, secure values.

The expected values come from yaml.v3's own decode_test.go (v3.0.1) where it has the case, and
tests/e2e/test_engine_yaml.py checks the reader against the real yaml.v3 on many more inputs.
"""

from __future__ import annotations

import math
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagewise.core import stackconfig
from stagewise.core.config import ConfigError
from stagewise.formats import stackfile, yamlv3

ROOT = stackfile.project_root()
PROJECT = (ROOT / "Pulumi.yaml").read_text()
DEV = (ROOT / "Pulumi.dev.yaml").read_text()


@pytest.mark.parametrize(
    "text, value",
    [
        # decode_test.go, unmarshalTests
        ("v: 0b10", 2),
        ("v: 0xA", 10),
        ("v: 4294967296", 4294967296),
        ("v: .1", 0.1),
        ("v: -.Inf", -math.inf),
        ("octal: 0o2472256", 685230),
        ("hexa: 0x_0A_74_AE", 685230),
        ("bin: -0b101010", -42),
        ("a: YES", "YES"),
        ("a: 1.2.3.4", "1.2.3.4"),
        ("a: 3s", "3s"),
        ("a: -b_c", "-b_c"),
        ("a: 50cent_of_dollar", "50cent_of_dollar"),
        ("v: ! test", "test"),
        ("v: !!float 0", 0.0),
        ("a: !!binary gIGC", "\ufffd\ufffd\ufffd"),
        # YAML 1.1 leftovers that yaml.v3 keeps and ruamel's 1.2 reading does not (resolve.go)
        ("v: 017", 15),
        ("v: 1_000", 1000),
        ("v: 1__", 1),
        ("v: 08", 8.0),
        # and 1.1 booleans it dropped
        ("v: on", "on"),
        ("v: n", "n"),
        ("v: 1e400", "1e400"),
    ],
)
def test_plain_scalars_are_typed_as_yaml_v3_types_them(text: str, value):
    (got,) = yamlv3.load(text).values()
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    "text, shown",
    [
        # decode_test.go: timestamps decode to time.Time; the engine's config layer hands a
        # program its String() (config/object.go, unmarshalObject).
        ("a: 2015-01-01", "2015-01-01 00:00:00 +0000 UTC"),
        ("a: 2015-2-3T3:4:5Z", "2015-02-03 03:04:05 +0000 UTC"),
        ("a: 2015-02-24T18:19:39.12Z", "2015-02-24 18:19:39.12 +0000 UTC"),
        ("a: 2015-02-24 18:19:39", "2015-02-24 18:19:39 +0000 UTC"),
        ("a: 2015-02-30", "2015-02-30"),
    ],
)
def test_dates_reach_the_program_as_go_prints_them(text: str, shown: str):
    assert yamlv3.load(text) == {"a": shown}


@pytest.mark.parametrize(
    "text, reason",
    [
        ("a: &a\n  b: *a\n", "anchor 'a' value contains itself"),
        ("a: &a [*a]\n", "anchor 'a' value contains itself"),
        ("a: 1\na: 2\n", "mapping key 'a' already defined at line 1"),
        ("a: {'b': 1, b: 2}\n", "mapping key 'b' already defined"),
        ("a: *nowhere\n", "unknown anchor 'nowhere' referenced"),
        ("x: &x 1\na: {<<: *x}\n", "map merge requires map or sequence of maps"),
        ("? [1]\n: 2\n", "invalid map key"),
        ("a: !!int foo\n", "cannot decode !!str `foo` as a !!int"),
    ],
)
def test_what_yaml_v3_refuses_is_refused_with_its_reason(text: str, reason: str):
    with pytest.raises(yamlv3.YamlError, match=reason):
        yamlv3.load(text)


def laughs(levels: int, width: int = 9) -> str:
    """The classic alias bomb: each level lists the previous one `width` times."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_once_as_excessive_aliasing():
    bomb = "  stagewise:bomb:\n" + "".join(f"    {line}\n" for line in laughs(8).splitlines())
    assert len(bomb) < 3000
    text = DEV.replace("config:\n", "config:\n" + bomb, 1)
    started = time.monotonic()
    with pytest.raises(stackfile.StackFileError, match="document contains excessive aliasing"):
        stackfile.stack_config(PROJECT, text, "Pulumi.dev.yaml")
    assert time.monotonic() - started < 1.0


def test_a_few_aliases_are_read_like_any_other_value():
    text = "base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  x: 9\nd: *b\n"
    assert yamlv3.load(text) == {"base": {"x": 1, "y": 2}, "c": {"x": 9, "y": 2}, "d": {"x": 1, "y": 2}}


def test_a_bom_is_skipped_as_the_engine_skips_it():
    assert yamlv3.load("\ufeffa: b\n") == {"a": "b"}


def test_only_the_first_document_is_read():
    assert yamlv3.load("a: 1\n---\nb: [\n") == {"a": 1}


@pytest.mark.parametrize(
    "value, secure",
    [
        ("{secure: AAABAx}", True),
        ("{secure: 12345}", False),
        ("{secure: true}", False),
        ("{secure: [x]}", False),
        ("{secure: AAAB, other: 1}", False),
        ("{secure: ~}", False),
    ],
)
def test_a_secure_value_is_a_lone_secure_key_holding_a_string(value: str, secure: bool):
    assert stackfile.is_encrypted(yamlv3.load(f"v: {value}")["v"]) is secure


def test_a_secret_whose_secure_value_is_a_number_is_refused_as_plain_text():
    text = re.sub(r"secure: v1:\S+", "secure: 12345", DEV)
    assert "secure: 12345" in text
    with pytest.raises(ConfigError) as refused:
        stackconfig.config_from_texts(PROJECT, text, "Pulumi.dev.yaml")
    assert any("jwt-secret" in p and "plain text" in p for p in refused.value.problems)
    assert not any("12345" in p for p in refused.value.problems)


# Fuzzing: whatever the text, the reader answers (accepts or refuses with a message) and fast.

_WORDS = st.sampled_from(
    [
        "a",
        "b",
        "config",
        "stagewise:release",
        "stage",
        "secure",
        "<<",
        "~",
        "null",
        "true",
        "0x1F",
        "1_0",
        "2024-01-02",
        ".inf",
        "-",
        "'q'",
        '"d"',
        "&a",
        "*a",
        "&b",
        "*b",
        "!!str",
        "!!int",
        "!!binary",
        "|",
        ">",
        "? ",
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        ": ",
        "#c",
        "\t",
        "\ufeff",
        "\\",
        "%YAML 1.1",
        "---",
        "...",
        "\x00",
        "é",
    ]
)
_SEPARATORS = st.sampled_from([" ", "\n", "\n  ", "\n    ", "\r\n", ": ", ", ", ""])
yaml_ish = st.lists(st.tuples(_WORDS, _SEPARATORS), max_size=40).map(lambda parts: "".join(a + b for a, b in parts))
TIME_BOUND_SECONDS = 2.0


def _nested(depth: int) -> st.SearchStrategy[str]:
    scalar = st.sampled_from(["1", "x", "'2'", "*a", "*b", "~", "{secure: 5}", "{secure: s}", "[]", "{}"])
    if depth == 0:
        return scalar
    inner = _nested(depth - 1)
    return st.one_of(
        scalar,
        st.lists(inner, max_size=6).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(st.sampled_from(["k", "<<", "secure", "j"]), inner), max_size=5).map(
            lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
        ),
        st.tuples(st.sampled_from(["&a", "&b"]), inner).map(" ".join),
    )


documents = st.one_of(
    yaml_ish,
    st.text(max_size=200),
    _nested(4).map(lambda v: f"config:\n  stagewise:release: {v}\n  stagewise:secrets: {v}\n"),
    st.tuples(_nested(3), _nested(3)).map(
        lambda kv: f"a: &a {kv[0]}\nb: &b {kv[1]}\nconfig:\n  stagewise:x: [*a, *b, *a]\n"
    ),
)


def _read_every_way(text: str) -> None:
    stackfile.stack_config(PROJECT, text, "Pulumi.dev.yaml")
    stackconfig.config_from_texts(PROJECT, text, "Pulumi.dev.yaml")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_text_is_accepted_or_refused_with_a_message_in_bounded_time(text: str):
    started = time.monotonic()
    try:
        _read_every_way(text)
    except ConfigError as refused:
        assert refused.problems and all(isinstance(p, str) and p for p in refused.problems)
    except stackfile.StackFileError as refused:
        assert str(refused).startswith("Pulumi.dev.yaml")
    assert time.monotonic() - started < TIME_BOUND_SECONDS


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=9), st.integers(min_value=2, max_value=12))
def test_alias_bombs_of_any_shape_are_answered_in_bounded_time(levels: int, width: int):
    started = time.monotonic()
    try:
        stackfile.stack_config(PROJECT, laughs(levels, width), "Pulumi.dev.yaml")
    except stackfile.StackFileError as refused:
        assert "excessive aliasing" in str(refused)
    assert time.monotonic() - started < TIME_BOUND_SECONDS
