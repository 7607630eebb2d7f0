"""The Stagewise policy pack: its rules as plain functions, one module per resource family, each
policy declared once as a record right below its check, and their pulumi_policy wiring in `policies`.

Run it with `pulumi preview --policy-pack policy`; `__main__` is the pack's entry point.

- `settings`, `inputs`, `tier`, `resource_types`: what every rule uses.
- `keyvault`, `webapps`, `vnet_integration`, `frontdoor`, `traffic_manager`, `monitoring`, `kubernetes`,
  `tags`: the rules, each followed by its policy's record (`record.PolicyRecord`: name, description,
  level, types or stack, check, config keys, validator twin) as a constant named after the policy
  (`KEYVAULT_PURGE_PROTECTION`), and at the module's end the family's `POLICIES`, its records in order.
- `catalogue`: every record, and the tables derived from them; `docs`: the docs' table of policies.

The thresholds come from the core (`stagewise.core.tiers`, `stagewise.core.limits`), which the config
validator enforces too. A resource validator takes a resource's inputs as the engine sends them
(camelCase keys, plain dicts and lists, numbers as floats) and the pack's `Settings`, and returns
one message per violation; an empty list means compliant. A stack rule takes every resource of
the stack (`inputs.StackResource`) and returns `inputs.StackViolation`s. Each rule has exactly one
message format. No module but `policies` imports pulumi_policy.

Conventions every rule follows:
- A guarded property that is not set is a violation reported as "(got not set)": the pack checks
  what the program declares, not what an Azure API version happens to default to.
- A value the engine cannot know yet during `pulumi preview` (it depends on another resource's
  output) is skipped; `pulumi up` checks the same resource again with known inputs before it is
  created or updated. A reference between resources is followed through the property's
  dependencies first and through equal known values second; when neither can tell, the rule
  stays silent.
- The environment comes from the Azure tag `environment` or the Kubernetes label
  `stagewise.dev/environment`. A resource without a valid one is held to production rules, so
  that forgetting the tag can never loosen a rule.
- Messages never contain a property value that could be a secret.
"""
