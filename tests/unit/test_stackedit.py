"""Editing the release keys of a stack file: every other byte kept, written atomically."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from stagewise.core import stackconfig
from stagewise.core.config import ConfigError
from stagewise.formats import stackfile, yamlv3
from stagewise.tools import safefile, stackedit

ROOT = stackfile.project_root()
STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))
PRODUCTION = (ROOT / "Pulumi.production.yaml").read_text()


def safe(text: str):
    return YAML(typ="safe", pure=True).load(text)


def release(text: str) -> dict:
    return safe(text)["config"][stackedit.RELEASE_KEY]


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.splitlines(), after.splitlines()
    assert len(a) == len(b)
    return [(x, y) for x, y in zip(a, b) if x != y]


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_every_stack_file_edits_only_the_release_line(path: Path):
    text = path.read_text()
    stage = release(text)["stage"]
    edited = stackedit.edit_release(text, {"stage": "somewhere"})
    assert changed_lines(text, edited) == [(f"    stage: {stage}", "    stage: somewhere")]
    assert stackedit.edit_release(edited, {"stage": stage}) == text


def test_several_keys_change_together_and_nothing_else():
    edited = stackedit.edit_release(PRODUCTION, {"live": "green", "stage": "idle"})
    assert changed_lines(PRODUCTION, edited) == [
        ("    live: blue", "    live: green"),
        ("    stage: quarter", "    stage: idle"),
    ]
    before, after = safe(PRODUCTION), safe(edited)
    after["config"][stackedit.RELEASE_KEY].update(live="blue", stage="quarter")
    assert after == before


def test_a_missing_colour_is_added_beside_the_other_and_keeps_the_comments_in_place():
    without_green = PRODUCTION.replace("    green: 1.5.0\n", "")
    edited = stackedit.edit_release(without_green, {"green": "1.6.0"})
    lines = edited.splitlines()
    at = lines.index("    blue: 1.4.2")
    assert lines[at : at + 3] == [
        "    blue: 1.4.2",
        "    green: 1.6.0",
        "    # The colour holding the stable version. The other colour is the candidate.",
    ]
    assert edited.replace("    green: 1.6.0\n", "") == without_green


def test_an_end_of_line_comment_on_the_previous_key_stays_on_its_line():
    text = PRODUCTION.replace("    green: 1.5.0\n", "").replace("blue: 1.4.2", "blue: 1.4.2  # the slot")
    edited = stackedit.edit_release(text, {"green": "2.0.0"})
    assert "    blue: 1.4.2  # the slot\n    green: 2.0.0\n    # The colour holding" in edited


def test_blue_goes_before_green():
    text = PRODUCTION.replace("    blue: 1.4.2\n", "")
    edited = stackedit.edit_release(text, {"blue": "1.6.0"})
    assert list(release(edited)) == ["image", "blue", "green", "live", "stage"]


@pytest.mark.parametrize(
    "tag, written", [("2.0", "'2.0'"), ("10", "'10'"), ("true", "'true'"), ("1.6.0", "1.6.0"), ("v2", "v2")]
)
def test_a_tag_that_would_read_back_as_a_number_is_quoted(tag: str, written: str):
    edited = stackedit.edit_release(PRODUCTION, {"green": tag})
    assert f"    green: {written}\n" in edited
    assert release(edited)["green"] == tag


def test_the_quoting_the_file_uses_is_kept():
    text = PRODUCTION.replace("stage: quarter", 'stage: "quarter"')
    assert 'stage: "half"' in stackedit.edit_release(text, {"stage": "half"})


def test_a_comment_at_the_end_of_the_line_keeps_its_gap_so_edits_undo_exactly():
    text = PRODUCTION.replace("stage: quarter", "stage: quarter  # moves each step")
    for stage in ("idle", "canary", "half", "a-much-longer-stage-name"):
        edited = stackedit.edit_release(text, {"stage": stage})
        assert f"    stage: {stage}  # moves each step\n" in edited
        assert stackedit.edit_release(edited, {"stage": "quarter"}) == text


def test_crlf_files_stay_crlf():
    text = PRODUCTION.replace("\n", "\r\n")
    edited = stackedit.edit_release(text, {"stage": "half"})
    assert edited == PRODUCTION.replace("stage: quarter", "stage: half").replace("\n", "\r\n")


@pytest.mark.parametrize("indent", [2, 4])
def test_other_indentations_are_kept(indent: int):
    pad = " " * indent
    text = f"config:\n{pad}stagewise:release:\n{pad * 2}stage: idle\n{pad}stagewise:alerts:\n{pad * 2}emails:\n{pad * 2}- a@b.c\n"
    assert stackedit.edit_release(text, {"stage": "canary"}) == text.replace("idle", "canary")


def test_a_layout_that_cannot_be_reproduced_is_refused():
    odd = "config:\n  stagewise:release:\n    stage:    idle\n"
    with pytest.raises(stackedit.EditError, match="without reformatting"):
        stackedit.edit_release(odd, {"stage": "canary"})


@pytest.mark.parametrize(
    "text, error",
    [
        ("config: [unclosed\n", stackfile.StackFileError),
        ("config:\n  stagewise:owner: x\n", stackedit.EditError),
        ("config:\n  stagewise:release: idle\n", stackedit.EditError),
    ],
)
def test_files_without_a_release_mapping_are_refused(text: str, error: type):
    with pytest.raises(error):
        stackedit.edit_release(text, {"stage": "canary"})


def test_only_owned_keys_can_be_edited():
    with pytest.raises(ValueError, match="image"):
        stackedit.edit_release(PRODUCTION, {"image": "other/app"})


# Reading the config the way the program does.

PROJECT = (ROOT / "Pulumi.yaml").read_text()


def test_config_from_texts_reads_project_defaults_and_encrypted_secrets():
    cfg = stackconfig.config_from_texts(PROJECT, PRODUCTION, "Pulumi.production.yaml")
    assert cfg.release.stage == "quarter"
    assert [s.name for s in cfg.catalog.stages] == ["idle", "canary", "quarter", "half", "full"]
    dev = stackconfig.config_from_texts(PROJECT, (ROOT / "Pulumi.dev.yaml").read_text(), "Pulumi.dev.yaml")
    assert [s.share for s in dev.catalog.stages] == [0, 10, 20, 50, 100]
    assert set(dev.secrets) == {"jwt-secret"}


def test_config_from_texts_refuses_what_the_program_refuses():
    plain_secret = re.sub(r"jwt-secret:\n +secure: \S+", "jwt-secret: hunter2", PRODUCTION)
    assert plain_secret != PRODUCTION
    with pytest.raises(ConfigError) as caught:
        stackconfig.config_from_texts(PROJECT, plain_secret, "Pulumi.production.yaml")
    assert any("jwt-secret" in p and "plain text" in p for p in caught.value.problems)


def test_edit_returns_the_document_the_engine_reads_and_leaves_the_given_one_alone():
    document = yamlv3.load(PRODUCTION)
    kept = copy.deepcopy(document)
    text, edited = stackedit.edit(PRODUCTION, document, {"stage": "half"})
    assert text == stackedit.edit_release(PRODUCTION, {"stage": "half"})
    assert edited == yamlv3.load(text)
    assert document == kept


# Writing.


def test_write_replaces_the_file_and_keeps_its_mode(tmp_path: Path):
    path = tmp_path / "Pulumi.production.yaml"
    path.write_text(PRODUCTION)
    path.chmod(0o640)
    snapshot = safefile.read(path)
    safefile.write(snapshot, "new: text\n")
    assert path.read_text() == "new: text\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.parametrize(
    "meddle",
    [
        lambda p: p.write_text(PRODUCTION + "# someone else\n"),
        lambda p: os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 1_000_000_000)),
        lambda p: p.unlink(),
    ],
    ids=["content", "mtime", "deleted"],
)
def test_write_refuses_when_the_file_changed_after_reading(tmp_path: Path, meddle):
    path = tmp_path / "Pulumi.production.yaml"
    path.write_text(PRODUCTION)
    snapshot = safefile.read(path)
    meddle(path)
    on_disk = path.read_bytes() if path.exists() else None
    with pytest.raises(stackedit.EditError, match="changed on disk"):
        safefile.write(snapshot, "new: text\n")
    assert (path.read_bytes() if path.exists() else None) == on_disk
    assert [p for p in os.listdir(tmp_path) if p != path.name] == []


def test_read_reports_a_missing_or_binary_file(tmp_path: Path):
    with pytest.raises(stackfile.StackFileError, match="does not exist"):
        safefile.read(tmp_path / "Pulumi.nope.yaml")
    binary = tmp_path / "Pulumi.bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(stackfile.StackFileError, match="UTF-8"):
        safefile.read(binary)


def _anchored(text: str) -> str:
    return text.replace("    stage: idle\n", "    stage: &s idle\n").replace(
        "    new-checkout: true\n", "    new-checkout: true\n    other: *s\n"
    )


def test_an_anchor_on_an_edited_value_is_refused_not_moved_to_its_alias():
    # The dumper would move `&s` to the alias's line and rewrite it: the minimal-edit promise would break.
    text = _anchored((ROOT / "Pulumi.dev.yaml").read_text())
    with pytest.raises(stackedit.EditError, match=r"would rewrite line \d+ \('other: \*s'\) too: .*anchor or alias"):
        stackedit.edit_release(text, {"stage": "canary"})


def test_anchors_elsewhere_leave_the_edit_minimal():
    text = (
        (ROOT / "Pulumi.dev.yaml")
        .read_text()
        .replace("    new-checkout: true\n", "    new-checkout: &on true\n    other: *on\n")
    )
    edited = stackedit.edit_release(text, {"stage": "canary"})
    assert edited == text.replace("    stage: idle\n", "    stage: canary\n")
    assert stackedit.edit_release(edited, {"stage": "idle"}) == text


def test_an_anchored_release_used_elsewhere_is_refused():
    text = (ROOT / "Pulumi.dev.yaml").read_text().replace("  stagewise:release:\n", "  stagewise:release: &r\n")
    text = text.replace("  stagewise:featureFlags:\n", "  stagewise:copy: *r\n  stagewise:featureFlags:\n")
    with pytest.raises(stackedit.EditError, match="would change other values too"):
        stackedit.edit_release(text, {"stage": "canary"})


def test_a_second_document_is_kept_as_it_is_and_the_first_edited():
    # The engine reads the first document only; what follows is not ours to rewrite (or even to read).
    first = (ROOT / "Pulumi.local.yaml").read_text()
    text = first + "---\nnot: [read\n"
    edited = stackedit.edit_release(text, {"stage": "early"})
    assert edited == first.replace("    stage: canary\n", "    stage: early\n") + "---\nnot: [read\n"
