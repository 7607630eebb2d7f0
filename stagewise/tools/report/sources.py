"""The metrics provider for a stack's report: the very one its stage gates read (`stagewise:analysis`)."""

from __future__ import annotations

from pathlib import Path

from stagewise.core.config import ConfigError
from stagewise.tools import processes, session
from stagewise.tools.gate import analysis, commands
from stagewise.tools.gate.provider import MetricsProvider


def for_stack(root: Path, stack: str) -> tuple[MetricsProvider | None, str | None]:
    """The stack's provider as `stagewise analyze` builds it, or None and why there is none."""
    try:
        loaded = session.load(stack)
        # The gate command's own construction, Application Insights' resource ID lookup included.
        return commands.stack_provider(loaded), None
    except analysis.GateError as error:
        return None, str(error)
    except ConfigError as error:
        return (
            None,
            f"the config of {stack} is invalid ({'; '.join(error.problems)}), so its stagewise:analysis is unknown",
        )
    except (
        session.CliError,
        processes.PulumiCliError,
    ) as error:  # e.g. Application Insights' resource ID cannot be found
        return None, str(error)
