"""The metrics provider for a stack's report: the very one its stage gates read (`stagewise:analysis`)."""

from __future__ import annotations

from pathlib import Path

from stagewise.tools.analysis.provider import MetricsProvider
from stagewise.core.config import ConfigError


def for_stack(root: Path, stack: str) -> tuple[MetricsProvider | None, str | None]:
    """The stack's provider as `stagewise analyze` builds it, or None and why there is none."""
    # Imported here: stagewise.tools.cli imports this package lazily, and the gate's commands import the CLI.
    from stagewise.tools import cli
    from stagewise.tools.analysis import commands, gate

    try:
        loaded = cli._load(stack)
        # The gate command's own construction, Application Insights' resource ID lookup included.
        return commands._provider(loaded), None
    except gate.GateError as error:
        return None, str(error)
    except ConfigError as error:
        return None, f"the config of {stack} is invalid ({'; '.join(error.problems)}), so its stagewise:analysis is unknown"
    except cli.CliError as error:  # e.g. Application Insights' resource ID cannot be found
        return None, str(error)
