"""The stack-file config keys this project owns, as constants with no model behind them: a
reader of stack files (the file formats, the history, the editor) names them without importing
the config validator."""

from __future__ import annotations

NAMESPACE = "stagewise"
"""The Pulumi config namespace: every key of ours is `stagewise:<name>`."""

RELEASE_KEY = f"{NAMESPACE}:release"
"""The rollout state in a stack file; rollout commands edit it."""

SECRETS_KEY = f"{NAMESPACE}:secrets"
"""The stack's secrets, by name; each is to be stored encrypted (`pulumi config set --secret`)."""
