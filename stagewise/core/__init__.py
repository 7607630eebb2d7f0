"""Core: the rollout model, limits and tier rules, naming, config validation. Imports no pulumi."""
