"""The deployment tests reuse the API tests' helpers (a throwaway PostgreSQL, a server subprocess)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))
