"""The post-deployment report: one rollout's timeline, its metrics per stage, as Markdown, a chart and data.

- `timeline`: the rollouts rebuilt from the stack file's history (pure; no git, no Pulumi).
- `metrics`: what the report asks of a metrics provider, and the numbers per stage and version.
- `markdown`, `chart`, `data`: the three renderings of one `Report`.
- `build`: the command's work, from a project folder to the files.
"""
