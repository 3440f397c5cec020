"""Subcommands of `twinctl`, one module each (see cli.py)."""
