"""Tools: the CLI, the offline plan and evaluation, history, stack-file edits, gates, reports."""
