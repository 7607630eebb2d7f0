"""File formats: the YAML the engine reads, the project and stack files, the keys we own in them.
The lowest layer: it imports nothing of ours and never pulumi."""
