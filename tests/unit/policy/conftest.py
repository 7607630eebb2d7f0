"""The policy pack is not an installed package (the engine runs it from its directory), so its
tests import it from the repository root."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
