"""`/api/v1/docs` works without internet: Swagger UI comes from node_modules through this server, the page names no
other host, and in a real browser that may reach nothing but this server it renders every operation."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
import uvicorn
from fastapi.testclient import TestClient
from kit.read_api import app_client, app_settings, fake_deployment, market  # noqa: F401

from twin_licensing.api.app import create_app

DOCS = "/api/v1/docs"


def references(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_docs_page_and_every_asset_it_names_come_from_this_server(app_client):
    page = app_client.get(DOCS)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert not re.search(r"(https?:)?//", page.text), "the page names another host"
    assets = references(page.text)
    assert {urlsplit(a).path.rsplit("/", 1)[-1] for a in assets} >= {"swagger-ui.css", "swagger-ui-bundle.js"}
    for asset in assets:
        assert asset.startswith(f"{DOCS}/static/"), asset
        response = app_client.get(asset)
        assert response.status_code == 200 and len(response.content) > 100, asset
    assert app_client.get(f"{DOCS}/static/swagger-ui.css").headers["content-type"].startswith("text/css")
    assert app_client.get(f"{DOCS}/static/swagger-ui-bundle.js").headers["content-type"].startswith("text/javascript")
    openapi = re.search(r'"url": "([^"]+)"', page.text)[1]
    assert app_client.get(openapi).json()["info"]["title"] == "Twin licensing"


def test_only_swagger_ui_files_are_served_from_node_modules(app_client):
    for name in ("package.json", "..%2F..%2Fpackage.json", "index.html", "swagger-initializer.js"):
        response = app_client.get(f"{DOCS}/static/{name}")
        assert response.status_code == 404 and response.json()["detail"].endswith(".")


def test_redoc_is_not_served(app_client):
    assert app_client.get("/redoc").status_code == 404 and app_client.get("/api/v1/redoc").status_code == 404


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served_app(market, app_settings):
    app = create_app(app_settings, deployment=fake_deployment(), engine=market.engine)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start within 20 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.timeout(120)
def test_docs_render_in_a_browser_that_can_reach_only_this_server(served_app):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Chromium is not installed, so the docs cannot be checked in a browser: apt-get install -y chromium",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    elsewhere: list[str] = []

    def only_here(route):
        if route.request.url.startswith(served_app + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            page = browser.new_page()
            page.route("**/*", only_here)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(served_app + DOCS)
            page.wait_for_selector(".opblock", timeout=30_000)
            operations = page.locator(".opblock-summary-path").all_inner_texts()
        finally:
            browser.close()
    assert not elsewhere, f"the docs asked other hosts: {elsewhere}"
    assert not errors, errors
    assert any("/api/v1/twins" in text for text in operations) and len(operations) >= 10
