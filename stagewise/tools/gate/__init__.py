"""The stage gate: judge the candidate version against the live one from real metrics.

Pure: `sequential` (the statistics), `evidence` (the counts and what makes them unfit to judge),
`rules` (checks, shares, promote tests, a stage's limits), `judge` (the Judge) and `explain` (what
a verdict says). Sources: `provider` (the interface), `prometheus`, `appinsights`, `settled` (settled
steps on disk). `analysis` ties a stack to its source and a verdict, `kept` keeps the Judge between
looks, `replay` and `commands` are the command line. The config is core's (`gate_config`).
"""
