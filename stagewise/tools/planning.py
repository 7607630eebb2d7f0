"""The offline plan of a stack: the program evaluated under mocks at a git revision and in the working tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stagewise.core.config import ConfigError
from stagewise.formats import stackfile
from stagewise.formats.stackfile import StackText
from stagewise.tools import git, plandiff, safefile
from stagewise.tools.plan import Plan


class PlanError(Exception):
    """The plan cannot be made: one message and optional detail lines (the CLI prints them as they are)."""

    def __init__(self, message: str, details: list[str] | None = None):
        super().__init__(message)
        self.details = details or []


class UnknownStack(PlanError):
    """There is no stack file for `stack` in `root` (the CLI says which stacks there are)."""

    def __init__(self, root: Path, stack: str):
        super().__init__(f"unknown stack {stack!r}: there is no {stackfile.stack_path(root, stack).name} in {root}")
        self.root = root
        self.stack = stack


def _evaluate(project_text: str, stack_text: str, source: str, stack: str, where: str) -> tuple[Any, StackText]:
    """The program evaluated for the stack file, and the file as parsed (the ciphertexts are read from
    it); each text is parsed once."""
    from stagewise.tools import evaluate  # Pulumi loads slowly: only plan needs it.

    try:
        project_document = stackfile.load_yaml(project_text, stackfile.PROJECT_FILE)
        project = stackfile.project_name(project_document) or "stagewise"
        defaults = stackfile.project_defaults_of(project_document)
        parsed = StackText.parse(stack_text, source)
        return evaluate.evaluate_parsed(defaults, parsed, stack, project), parsed
    except ConfigError as error:
        raise PlanError(f"the program refuses the config of {stack} {where}:", error.problems) from None
    except stackfile.StackFileError as error:
        raise PlanError(f"{stack} {where}: {error}") from None
    except Exception as error:  # the program itself failed: say where, keep the cause
        raise PlanError(f"evaluating {stack} {where} failed: {type(error).__name__}: {error}") from None


def compute_plan(root: Path, stack: str, against: str) -> tuple[Plan, str]:
    """The plan from the stack as committed at `against` to the working tree, and the commit."""
    path = stackfile.stack_path(root, stack)
    if not path.exists() and not path.is_symlink():
        raise UnknownStack(root, stack)
    commit = git.resolve(root, against)
    before_project = git.show(root, commit, stackfile.PROJECT_FILE)
    if before_project is None:
        raise PlanError(f"{stackfile.PROJECT_FILE} does not exist at {against}")
    before_stack = git.show(root, commit, path.name)
    after_project, after_stack = stackfile.read_project_text(root), safefile.read(path).text

    after, after_parsed = _evaluate(after_project, after_stack, path.name, stack, "in the working tree")
    before, before_parsed = (
        _evaluate(before_project, before_stack, path.name, stack, f"at {against}")
        if before_stack is not None
        else (None, None)
    )
    notes = [f"{path.name} does not exist at {against}: every resource is new."] if before_stack is None else []
    result = plandiff.diff(
        plandiff.states(before.resources) if before else {},
        plandiff.states(after.resources),
        before.outputs if before else {},
        after.outputs,
        (before.secret_outputs if before else set()) | after.secret_outputs,
        plandiff.secrets_changed(before_parsed.ciphertexts if before_parsed else {}, after_parsed.ciphertexts),
        notes,
    )
    return result, commit
