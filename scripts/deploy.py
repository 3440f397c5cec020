#!/usr/bin/env python3
"""Deploys the contracts: `python scripts/deploy.py [--rpc-url URL] [...]`, the same as `twinctl deploy`."""

import sys
from pathlib import Path

# Runnable from a checkout without the package installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))

from twin_licensing.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["deploy", *sys.argv[1:]]))
