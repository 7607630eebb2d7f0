"""Entry point the Pulumi engine runs (Pulumi.yaml: main: infra/)."""

from stagewise.infra.program import main

main()
