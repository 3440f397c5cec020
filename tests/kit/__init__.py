"""Helpers shared by the test suites, imported as `kit.<module>` (`tests/` is on pytest's `pythonpath`)."""
