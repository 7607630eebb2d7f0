"""How long reading a stack file takes the way the engine reads it, and how fast hostile YAML is refused.

Run: .venv/bin/python bench/stackfile_bench.py [--repeat 20]

1. Each shipped stack file read with stagewise.formats.yamlv3 (the port of the engine's yaml.v3 decoding)
   and, for comparison, with ruamel.yaml's safe loader (what the reader used before).
2. An edit (`promote`'s edit_release) of the production file, which parses the text three times: the
   engine's reading, the editor's round-trip load, and the engine's reading of the edited text.
3. Alias bombs of growing size: the time until "document contains excessive aliasing".

Prints figures only; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ruamel.yaml import YAML  # noqa: E402

from stagewise.formats import yamlv3  # noqa: E402
from stagewise.tools import stackedit  # noqa: E402


def timed(action: Callable[[], object], repeat: int) -> float:
    """Median milliseconds of `repeat` runs."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def bomb(levels: int, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def refused(text: str) -> None:
    try:
        yamlv3.load(text)
    except yamlv3.YamlError:
        return
    raise SystemExit("an alias bomb was accepted")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    repeat = parser.parse_args().repeat
    print(f"{'stack file':28} {'bytes':>6} {'yamlv3 ms':>10} {'ruamel safe ms':>15}")
    for path in sorted(ROOT.glob("Pulumi.*.yaml")):
        text = path.read_text()
        ours = timed(lambda: yamlv3.load(text), repeat)
        theirs = timed(lambda: YAML(typ="safe", pure=True).load(io.StringIO(text)), repeat)
        print(f"{path.name:28} {len(text):>6} {ours:>10.2f} {theirs:>15.2f}")
    production = (ROOT / "Pulumi.production.yaml").read_text()
    edit = timed(lambda: stackedit.edit_release(production, {"stage": "half"}), repeat)
    print(f"edit_release of Pulumi.production.yaml: {edit:.2f} ms")
    print(f"{'alias bomb':28} {'bytes':>6} {'refused in ms':>14}")
    for levels in (4, 6, 8, 12, 20):
        text = bomb(levels)
        print(f"{f'{levels} levels of 9':28} {len(text):>6} {timed(lambda: refused(text), max(3, repeat // 4)):>14.2f}")


if __name__ == "__main__":
    main()
