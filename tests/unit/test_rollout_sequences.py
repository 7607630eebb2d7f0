"""Random sequences of rollout commands on the model: whatever is accepted leaves a valid state and
a valid slot traffic rule; whatever is refused says why. Pure, so many examples are cheap."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewise.core import rollout

TAGS = st.sampled_from(["1.6.0", "2.0", "v3", " ", ""])


@st.composite
def catalogs(draw) -> rollout.Catalog:
    """Catalogs the config accepts: distinct names, shares rising strictly from 1 and ending at 100."""
    inner = draw(st.lists(st.integers(1, 99), unique=True, max_size=5))
    shares = sorted(inner) + [100]
    names = draw(
        st.lists(
            st.text("abcdefghijklmnop", min_size=1, max_size=6).filter(lambda n: n != rollout.IDLE),
            unique=True,
            min_size=len(shares),
            max_size=len(shares),
        )
    )
    return rollout.Catalog.of([rollout.Stage(n, s) for n, s in zip(names, shares)])


@st.composite
def commands(draw, catalog: rollout.Catalog):
    kind = draw(st.sampled_from(["deploy", "promote", "promote-to", "rollback", "abort", "finish"]))
    if kind == "deploy":
        return ("deploy", draw(TAGS))
    if kind == "promote-to":
        return ("promote", draw(st.sampled_from(catalog.names)), draw(st.booleans()))
    return (kind,)


def apply(release: rollout.Release, catalog: rollout.Catalog, command: tuple) -> rollout.Release:
    match command:
        case ("deploy", tag):
            return rollout.deploy(release, catalog, tag)
        case ("promote",):
            return rollout.promote(release, catalog)
        case ("promote", to, force):
            return rollout.promote(release, catalog, to, skip_stages=force)
        case ("rollback",):
            return rollout.rollback(release, catalog)
        case ("abort",):
            return rollout.abort(release, catalog)
        case ("finish",):
            return rollout.finish(release, catalog)
    raise AssertionError(command)


def assert_valid_shares(release: rollout.Release, catalog: rollout.Catalog) -> None:
    shares = rollout.traffic(release, catalog)
    assert sum(shares.values()) == 100 and all(0 <= s <= 100 for s in shares.values())
    rule = rollout.slot_share(shares)
    # The site keeps what the rule does not route to the slot; a rule is never an explicit 0 %.
    assert rule is None or 1 <= rule <= 100
    served = {rollout.SLOT_COLOUR: rule or 0, rollout.other(rollout.SLOT_COLOUR): 100 - (rule or 0)}
    assert served == shares


@st.composite
def scenarios(draw):
    catalog = draw(catalogs())
    live = draw(st.sampled_from(rollout.COLOURS))
    other = rollout.other(live)
    start = rollout.Release(
        "app", **{live: "1.0.0", other: draw(st.sampled_from([None, "0.9.0"]))}, live=live, stage=rollout.IDLE
    )
    steps = draw(st.lists(commands(catalog), max_size=25))
    return catalog, start, steps


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_accepted_commands_keep_the_state_and_the_weights_valid(scenario):
    catalog, release, steps = scenario
    rollout.check(release, catalog)
    for command in steps:
        try:
            after = apply(release, catalog, command)
        except rollout.RolloutError as refusal:
            assert str(refusal), command
            continue
        rollout.check(after, catalog)
        assert_valid_shares(after, catalog)
        # The live colour only changes by finish, which needs 100 % on the candidate first.
        if after.live != release.live:
            assert command == ("finish",) and rollout.traffic(release, catalog)[after.live] == 100
        # Traffic moves only by stage changes; versions only by deploy, which moves no traffic, and
        # by abort, which puts the live version back on the candidate.
        if (after.blue, after.green) != (release.blue, release.green):
            if command[0] == "abort":
                assert after.version(after.candidate) == after.version(after.live) == release.version(release.live)
            else:
                assert command[0] == "deploy" and rollout.traffic(after, catalog) == rollout.traffic(release, catalog)
        release = after
