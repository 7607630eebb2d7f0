"""The Stagewise policy pack: rules in `rules`, their pulumi_policy wiring in `policies`.

Run it with `pulumi preview --policy-pack policy`; `__main__` is the pack's entry point.
"""
