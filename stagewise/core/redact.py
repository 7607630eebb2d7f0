"""Text from outside made safe to show: credentials kept out of what is printed (a URL's user and
password, and query parameters that carry a token, `?access_token=...`, become `***`), and control
characters shown escaped so that a rollout's name, a commit's author or a series label cannot drive a
terminal (`printable`) or become a link, an image or HTML on a Markdown page (`markdown_text`).

Pure: no Pulumi import, no I/O. One module, so every place that shows outside text treats it alike:
replay's table, history, error messages and reports.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

HIDDEN = "***"

# Query parameter names that carry a credential (OAuth's access_token, API keys, signatures such as
# Azure's SAS `sig`): matched as whole words of the name, case-insensitively.
_SECRET_PARAM = re.compile(
    r"(^|[_.-])(token|access_token|api[_-]?key|key|secret|password|passwd|sig|signature|auth)$", re.I
)

# A URL inside free text: the scheme up to the next white space or quote.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """`url` with its user info and credential-bearing query values replaced by ***; a text that is
    no URL comes back unchanged."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return _userinfo_hidden(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{HIDDEN}@{host or ''}" + (f":{port}" if port is not None else "")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_PARAM.search(name) for name, _ in pairs):
            query = urlencode([(n, HIDDEN if _SECRET_PARAM.search(n) else v) for n, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _userinfo_hidden(text: str) -> str:
    # A URL urlsplit refuses (a bad port): still never show what precedes the host's '@'.
    return re.sub(r"(://)[^/@\s]*@", rf"\1{HIDDEN}@", text)


def redact_text(text: str) -> str:
    """Every URL inside `text` redacted (redact_url): for messages that quote an error or a reason."""
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)


def has_credentials(url: str) -> bool:
    """Whether `url` carries what redact_url hides (a user, a password, a token in its query)."""
    return redact_url(url) != url


def printable(text: str) -> str:
    """`text` with its URLs redacted and every character that is not printable (escape sequences, bell,
    a right-to-left override) shown as its Python escape."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in redact_text(text))


_MARKDOWN = re.compile(r"([\\`*_\[\]<>|#!~])")


def markdown_text(text: str) -> str:
    """`printable` text for a Markdown page or table cell: on one line, with Markdown's own characters
    escaped, so that it shows as written."""
    return _MARKDOWN.sub(r"\\\1", printable(" ".join(text.splitlines())))
