"""Image tags whose YAML reading is tricky, shared by the unit tests and the engine's own check (e2e)."""

# yaml.v3 reads each of these, unquoted, as something other than the string (resolve.go):
# Go integer syntax after dropping underscores, 1.1 octals, dates, floats, booleans, null.
RETYPED = [
    "1_000",
    "1__",
    "0x1F",
    "0X1f",
    "0o17",
    "0b101",
    "017",
    "08",
    "1e3",
    "1.",
    "2024-01-02",
    "2024-1-2",
    "TRUE",
    "False",
    "Null",
    "NULL",
    "10",
    "2.0",
    "0",
]

# These stay strings unquoted (YAML 1.1's yes/on are not booleans to yaml.v3).
PLAIN = ["1.6.0", "v2", "latest", "1.2.3-rc.1", "yes", "on", "1_0.0.0"]
