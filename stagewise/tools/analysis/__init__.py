"""Stage gates: judge the candidate version against the live one from real metrics.

`settings` (config models and defaults) and `verdict` (the judgement) are pure; `prometheus` and
`appinsights` are the metric providers, `gate` ties a stack to a provider and a verdict.
"""
