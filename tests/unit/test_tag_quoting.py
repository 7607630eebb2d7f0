"""A tag `deploy` writes reaches the program as the very same string, as the engine reads it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewise.core import limits, stackfile, yamlv3
from stagewise.tools import stackedit

ROOT = stackfile.project_root()
PRODUCTION = (ROOT / "Pulumi.production.yaml").read_text()


def written_green(tag: str) -> object:
    edited = stackedit.edit_release(PRODUCTION, {"green": tag})
    return yamlv3.load(edited)["config"][stackedit.RELEASE_KEY]["green"]


@pytest.mark.parametrize(
    "tag",
    # yaml.v3 reads each of these, unquoted, as something other than the string (resolve.go):
    # Go integer syntax after dropping underscores, 1.1 octals, dates, floats, booleans, null.
    [
        "1_000",
        "1__",
        "0x1F",
        "0X1f",
        "0o17",
        "0b101",
        "017",
        "08",
        "1e3",
        "1.",
        "2024-01-02",
        "2024-1-2",
        "TRUE",
        "False",
        "Null",
        "NULL",
        "10",
        "2.0",
        "0",
    ],
)
def test_tags_the_engine_would_retype_are_quoted(tag: str):
    assert limits.IMAGE_TAG.match(tag)
    assert written_green(tag) == tag


@pytest.mark.parametrize("tag", ["1.6.0", "v2", "latest", "1.2.3-rc.1", "yes", "on", "1_0.0.0"])
def test_tags_that_stay_strings_are_written_plain(tag: str):
    edited = stackedit.edit_release(PRODUCTION, {"green": tag})
    assert f"    green: {tag}\n" in edited
    assert written_green(tag) == tag


tags = st.from_regex(limits.IMAGE_TAG, fullmatch=True).filter(lambda t: len(t) <= 20)
numberish = st.text(alphabet="0123456789._-xXoObBeE+", min_size=1, max_size=12).filter(
    lambda t: bool(limits.IMAGE_TAG.match(t))
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(tags, numberish))
def test_every_tag_deploy_accepts_reads_back_as_itself(tag: str):
    assert written_green(tag) == tag
