"""Outside text made safe to show (stagewise.core.redact): one helper for terminals, one for Markdown."""

import pytest

from stagewise.core.redact import markdown_text, printable


@pytest.mark.parametrize(
    "text, shown",
    [
        ("\x1b[2J\x1b[Hcleared", "\\x1b[2J\\x1b[Hcleared"),
        ("bell\x07", "bell\\x07"),
        ("rtl\u202eoverride", "rtl\\u202eoverride"),
        ("[/bold] stays text", "[/bold] stays text"),
        ("see http://ci:hunter2@prom:9090/x", "see http://***@prom:9090/x"),
    ],
)
def test_printable_escapes_control_characters_and_hides_credentials(text, shown):
    assert printable(text) == shown


def test_markdown_text_shows_outside_text_as_written_on_one_line():
    assert markdown_text("Eve <img src=x>\n[x](javascript:1) a|b *c*") == (
        "Eve \\<img src=x\\> \\[x\\](javascript:1) a\\|b \\*c\\*"
    )
