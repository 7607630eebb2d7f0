"""Entry point the Pulumi engine runs (Pulumi.yaml: main: infra/)."""

from infra.program import main

main()
