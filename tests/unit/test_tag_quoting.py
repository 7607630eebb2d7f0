"""A tag `deploy` writes reaches the program as the very same string, as the engine reads it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewise.core import limits
from stagewise.formats import stackfile, yamlv3
from stagewise.tools import stackedit
from tests.tag_cases import PLAIN, RETYPED

ROOT = stackfile.project_root()
PRODUCTION = (ROOT / "Pulumi.production.yaml").read_text()


def written_green(tag: str) -> object:
    edited = stackedit.edit_release(PRODUCTION, {"green": tag})
    return yamlv3.load(edited)["config"][stackedit.RELEASE_KEY]["green"]


@pytest.mark.parametrize("tag", RETYPED)
def test_tags_the_engine_would_retype_are_quoted(tag: str):
    assert limits.IMAGE_TAG.match(tag)
    assert written_green(tag) == tag


@pytest.mark.parametrize("tag", PLAIN)
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
