#!/usr/bin/env python3
"""Seeds the demo catalogue: `python scripts/seed.py [--rpc-url URL]`, the same as `twinctl seed`."""

import sys
from pathlib import Path

# Runnable from a checkout without the package installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))

from twin_licensing.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["seed", *sys.argv[1:]]))
