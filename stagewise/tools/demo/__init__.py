"""The local stack with real traffic: a scratch copy of the project to roll out from (`workspace`),
the load generator and what it recorded (`traffic`), and the demo that plays a whole rollout (`play`).

Used by `make demo`, by the data-plane tests (tests/e2e/traffic) and by bench/canary_pull_bench.py.
"""
