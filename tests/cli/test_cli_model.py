"""After a rollout: the next step is a deploy, and traffic never drifts back to an older version unasked."""

from __future__ import annotations

from test_cli_commands import refused, release


def _finish_a_rollout(repo) -> None:
    repo.set_release("production", blue="1.4.2", green="1.5.0", live="blue", stage="full")
    assert repo.run("finish", "--stack", "production").exit_code == 0
    assert release(repo.file("production"))["live"] == "green"


def test_after_finish_status_offers_deploy_not_promote(repo):
    _finish_a_rollout(repo)
    result = repo.run("status", "--stack", "production")
    assert result.exit_code == 0, result.output
    assert 'next step: stagewise deploy --stack production "${TAG:?set TAG to the version to deploy}"' in result.stdout
    assert "next step: stagewise promote" not in result.stdout


def test_promote_towards_an_older_version_needs_the_explicit_flag(repo):
    _finish_a_rollout(repo)
    error = refused(repo, "production", "promote", "--stack", "production")
    assert "candidate blue runs 1.4.2, older than the live 1.5.0" in error
    assert "--older" in error and "deploy" in error
    result = repo.run("promote", "--older", "--stack", "production")
    assert result.exit_code == 0, result.output
    assert "towards the older version 1.4.2" in result.stdout
    assert release(repo.file("production"))["stage"] == "canary"


def test_a_newer_candidate_is_promoted_as_before(repo):
    repo.set_release("production", blue="1.4.2", green="1.10.0", live="blue", stage="idle")
    result = repo.run("status", "--stack", "production")
    assert "next step: stagewise promote --stack production  # to canary, 5 %" in result.stdout
    assert repo.run("promote", "--stack", "production").exit_code == 0


def test_a_project_file_that_is_not_utf8_is_a_message(repo):
    (repo.path / "Pulumi.yaml").write_bytes(b"name: \xff\xfe\n")
    for args in (["status"], ["promote"], ["history"], ["plan"]):
        result = repo.run(*args, "--stack", "production")
        assert result.exit_code == 1, (args, result.output)
        assert "Pulumi.yaml is not UTF-8 text" in result.stderr, (args, result.output)


def test_outside_production_an_older_candidate_is_promoted_with_a_warning(repo):
    repo.set_release("staging", blue="1.4.2", green="1.5.0", live="green", stage="idle")
    result = repo.run("promote", "--stack", "staging")
    assert result.exit_code == 0, result.output
    assert "warning: traffic moves towards the older version 1.4.2 (live: 1.5.0)" in result.stdout
