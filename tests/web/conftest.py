"""Browser tests: the whole system (local node, deployment, seed, indexer, settler, API with the web client) started
once per session by `twinctl up`, in a scratch directory, and driven by real headless Chromium.

Chromium is Debian's (`apt-get install -y chromium`), driven by Playwright (`pip install playwright`, never
`playwright install`). Each test saves a screenshot under `screenshots/web/` (gitignored). `page` is a desktop
window; `open_page(width, height)` opens more, of any size (390 x 844 is the phone the layout tests use).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

from kit.signin import session_cookie
from twin_licensing.chain.keys import dev_account
from twin_licensing.seed.data import GUILD
from twin_licensing.settings import find_project_root

ROOT = find_project_root()
TWINCTL = Path(ROOT / ".venv" / "bin" / "twinctl")
SCREENSHOTS = ROOT / "screenshots" / "web"
DESKTOP = (1360, 900)
PHONE = (390, 844)
CHROMIUM_INSTALL = "apt-get install -y chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def chromium_executable() -> str:
    """Debian's Chromium, or a one-line failure saying how to install it. Called before Playwright is imported:
    without an executable path Playwright looks for a browser of its own download and fails every test with a
    page about `playwright install`, which is not how this project gets its browser."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(f"Chromium is not installed, so no browser test can run: {CHROMIUM_INSTALL}", pytrace=False)
    return path


@dataclass
class System:
    url: str
    rpc_url: str
    env: dict[str, str]
    deployments_dir: Path
    accounts: list[dict]
    _cookie: str | None = None  # the guild's session (get)

    def account(self, role: str, n: int = 0) -> dict:
        return [a for a in self.accounts if a["role"] == role][n]

    def get(self, path: str, anonymous: bool = False) -> dict:
        """GET `path` as the guild (signed in once: it may see every licence and use), or `anonymous`."""
        request = urllib.request.Request(self.url + path)
        if not anonymous:
            if self._cookie is None:
                self._cookie = session_cookie(self.url, dev_account(GUILD).key)
            request.add_header("Cookie", self._cookie)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """`twinctl up` itself, in a scratch var/ and deployments/ directory; SIGINT stops it and every process it
    started (by PID). Its output is in <scratch>/up.log, each process's log in <scratch>/var/log/."""
    chromium_executable()  # before a minute of `twinctl up` for nothing
    if not TWINCTL.exists():
        pytest.fail(f"{TWINCTL} missing: pip install -e . in .venv")
    scratch = tmp_path_factory.mktemp("system")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_") and k not in ("DATABASE_URL",)}
    env.update(TWIN_VAR_DIR=str(scratch / "var"), TWIN_DEPLOYMENTS_DIR=str(scratch / "deployments"))
    log_path = scratch / "up.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([str(TWINCTL), "up"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not re.search(r"^Web client: ", log_path.read_text(), re.M):
            if process.poll() is not None:
                raise RuntimeError(f"twinctl up exited with {process.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"twinctl up did not print the web client's URL:\n{log_path.read_text()}")
            time.sleep(0.2)
        output = log_path.read_text()
        url = re.search(r"^Web client: (http://\S+?)/?$", output, re.M)[1]
        rpc_url = re.search(r"^RPC URL: +(\S+)", output, re.M)[1]
        env["TWIN_RPC_URL"] = rpc_url
        accounts = json.loads((scratch / "deployments" / "31337.accounts.json").read_text())["accounts"]
        system = System(url, rpc_url, env, scratch / "deployments", accounts)
        deadline = time.monotonic() + 60
        while system.get("/api/v1/twins")["count"] < 30:  # the indexer caught up with the seed
            if time.monotonic() > deadline:
                raise TimeoutError("the indexer did not index the seed within 60 s")
            time.sleep(0.3)
        yield system
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # `up` stops its children by PID, then exits
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = chromium_executable()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed, so no browser test can run: pip install playwright", pytrace=False)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., object]]:
    """Opens a page in a fresh browser context of the given window size; each is screenshotted at the end of the
    test whatever its outcome (`<test>.png`, then `<test>-2.png`, ...) and closed. Pages collect their uncaught
    errors in `page.js_errors`."""
    opened = []

    def open_(width: int = DESKTOP[0], height: int = DESKTOP[1]):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(30_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.js_errors = errors
        opened.append((context, page))
        return page

    yield open_
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for n, (context, page) in enumerate(opened, start=1):
        name = request.node.name if n == 1 else f"{request.node.name}-{n}"
        try:
            page.screenshot(path=str(SCREENSHOTS / f"{safe_name(name)}.png"), full_page=True)
        finally:
            context.close()


@pytest.fixture
def page(open_page):
    """A desktop-sized page in a fresh browser context; its screenshot is saved whatever the outcome."""
    return open_page(*DESKTOP)


def first_load(page, system):
    """Loads the client once in a new page, with time to spare: the first load fetches every module (ethers among
    them), which on a busy machine takes longer than an assertion waits. Later loads revalidate from the cache."""
    from playwright.sync_api import expect  # not at the top: Playwright may be missing (see browser)

    page.goto(f"{system.url}/#/catalogue")
    expect(page.locator("#account-picker")).to_be_attached(timeout=30_000)
    return page


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[object, str], None]:
    """Saves a full-page screenshot now, as `<test>-<label>.png`: for tests that visit several pages."""

    def save(page, label: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{safe_name(request.node.name)}-{safe_name(label)}.png"), full_page=True)

    return save


def safe_name(name: str) -> str:
    """A test id (`test_x[390-/model/twins]`) as a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
