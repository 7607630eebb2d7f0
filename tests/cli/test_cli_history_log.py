"""`stagewise history` on a real git log."""

from __future__ import annotations


def blocks(stdout: str) -> list[tuple[str, str]]:
    """(commit line, step line) pairs of the history output."""
    lines = stdout.splitlines()[1:]
    return list(zip(lines[0::2], lines[1::2]))


def test_history_lists_each_step_with_author_and_commit(repo):
    repo.set_release("production", blue="1.4.2", green="1.5.0", live="blue", stage="idle")
    repo.commit("production idle", author="Ada")
    shas = []
    for args, author in [
        (("promote",), "Ada"),
        (("promote",), "Grace"),
        (("rollback",), "Grace"),
        (("promote", "--to", "full", "--force"), "Linus"),
        (("finish",), "Ada"),
    ]:
        assert repo.run(*args, "--stack", "production").exit_code == 0
        shas.append(repo.commit(f"production: {' '.join(args)}", author=author))
    repo.file("production").write_text(repo.file("production").read_text() + "# a comment only\n")
    repo.commit("reword a comment", author="Nobody")

    result = repo.run("history", "--stack", "production")
    assert result.exit_code == 0, result.output
    steps = blocks(result.stdout)
    assert [step.split(":")[0].strip() for _, step in steps][-5:] == [
        "promote",
        "promote",
        "rollback",
        "promote",
        "finish",
    ]
    assert all("Nobody" not in head for head, _ in steps)

    head, step = steps[-5]
    assert head.startswith(shas[0][:8]) and head.endswith("Ada")
    assert step.strip() == "promote: stage idle -> canary (candidate 0 % -> 5 %), live blue, blue 1.4.2, green 1.5.0"
    head, step = steps[-1]
    assert head.startswith(shas[4][:8]) and head.endswith("Ada")
    assert (
        step.strip()
        == "finish: stage full -> idle (candidate 100 % -> 0 %), live blue -> green, blue 1.4.2, green 1.5.0"
    )
    assert steps[-2][0].endswith("Linus") and "stage canary -> full (candidate 5 % -> 100 %)" in steps[-2][1]


def test_history_of_an_unknown_stack(repo):
    result = repo.run("history", "--stack", "nowhere")
    assert result.exit_code == 1
    assert "unknown stack 'nowhere'" in result.stderr


def test_history_of_a_stack_file_never_committed(repo):
    repo.file("production").rename(repo.file("prod-eu"))
    result = repo.run("history", "--stack", "prod-eu")
    assert result.exit_code == 0, result.output
    assert "no committed rollout steps in Pulumi.prod-eu.yaml" in result.stdout


def test_history_of_a_removed_stack_file(repo):
    repo.git("rm", "-q", "Pulumi.staging.yaml")
    repo.commit("retire staging")
    result = repo.run("history", "--stack", "staging")
    assert result.exit_code == 0, result.output
    assert blocks(result.stdout)[-1][1].strip() == "removed: stack file removed"
