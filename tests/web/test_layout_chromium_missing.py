"""Without Debian's Chromium, every browser test fails with one line saying how to install it, and Playwright is never
asked for a browser of its own (whose error is a page about `playwright install`). Runs the web tests' conftest in a
child pytest whose PATH has no `chromium` (run from a temporary folder, so pyproject's pythonpath does not apply: its
PYTHONPATH names backend and tests, where `kit` is); needs neither a browser nor the system."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import CHROMIUM_INSTALL, ROOT

CONFTEST = Path(__file__).with_name("conftest.py")


def test_without_chromium_each_browser_test_fails_with_one_line(tmp_path: Path):
    # The real fixtures, unchanged, as a plugin (a second module named `conftest` would clash with the first).
    (tmp_path / "web_fixtures.py").write_text(f"import runpy\nglobals().update(runpy.run_path({str(CONFTEST)!r}))\n")
    (tmp_path / "test_needs_a_browser.py").write_text(
        "def test_with_a_page(page):\n    pass\n\n\n"
        "def test_with_the_browser(browser):\n    pass\n\n\n"
        "def test_with_the_system(page, system):\n    pass\n"
    )
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = {**os.environ, "PATH": str(empty_bin), "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT / "backend"), str(ROOT / "tests")])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "web_fixtures", "test_needs_a_browser.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "3 errors" in output, output
    assert "ms-playwright" not in output and "playwright install" not in output, output
    assert "Traceback" not in output, output
    # Each test's error section is the one sentence, nothing else: no fixture source, no `E` lines.
    sections = output.split(" ERROR at setup of ")[1:]
    assert len(sections) == 3, output
    for section in sections:
        lines = section.splitlines()[1:]  # after the section's title
        end = next((i for i, line in enumerate(lines) if line.startswith(("___", "==="))), len(lines))
        body = [line for line in lines[:end] if line.strip()]
        assert body == [f"Chromium is not installed, so no browser test can run: {CHROMIUM_INSTALL}"], section
