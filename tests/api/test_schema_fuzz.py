"""schemathesis generates requests from the OpenAPI schema, valid and invalid, for every operation: none may get
a 5xx. Bounded: a fixed number of examples per operation and mode, so the whole run takes well under a minute.

The RPC relay is left out: it forwards to the node, and with no node running its 503 ("the node does not
answer") is the right answer, not a fault.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from kit.read_api import app_settings, fake_deployment, market  # noqa: F401
from schemathesis import GenerationMode

from twin_licensing.api.app import create_app

EXAMPLES = 30  # per operation and generation mode
EXCLUDED = {"/api/v1/dev/rpc"}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_input_gets_a_server_error(market, app_settings, mode):
    app = create_app(app_settings, deployment=fake_deployment(), engine=market.engine)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in EXCLUDED:
            continue
        tested += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def run(case):
            try:
                response = case.call()
            except Exception as exc:  # noqa: BLE001 - the test client re-raises what would be a 500
                failures.append(f"{case.method} {case.formatted_path} {case.query} -> raised {exc!r}"[:300])
                return
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}: "
                                f"{response.text[:200]}")

        try:
            run()
        except Unsatisfiable:
            pass  # nothing to make invalid (an operation without parameters)
    assert tested >= 10
    assert not failures, "\n".join(failures[:10])


EDGE_VALUES = ["0", "-1", "1.5", "abc", str(2**63), str(2**256), "9" * 100, "%00", "0x" + "f" * 64]


def _edge_requests(app, prefix: str | None, exclude_prefix: str | None):
    """GET requests with one path or query parameter at an edge value, the others at a valid default."""
    spec = app.openapi()
    for path, methods in spec["paths"].items():
        if path in EXCLUDED or "get" not in methods:
            continue
        if prefix and not path.startswith(prefix):
            continue
        if exclude_prefix and path.startswith(exclude_prefix):
            continue
        params = methods["get"].get("parameters", [])
        defaults = {p["name"]: ("0x" + "a1" * 20 if "payee" in p["name"] or "address" in p.get("description", "")
                                else "1") for p in params if p["in"] == "path"}
        for param in params:
            for value in EDGE_VALUES:
                url = path
                values = dict(defaults)
                query = ""
                if param["in"] == "path":
                    values[param["name"]] = value
                else:
                    query = f"?{param['name']}={value}"
                for name, v in values.items():
                    url = url.replace("{" + name + "}", v)
                yield url + query


def _server_errors(app, urls) -> list[str]:
    from fastapi.testclient import TestClient

    errors = []
    with TestClient(app, raise_server_exceptions=False) as client:
        for url in urls:
            status = client.get(url).status_code
            if status >= 500:
                errors.append(f"GET {url} -> {status}")
    return errors


def test_read_api_parameters_at_their_edges_never_get_a_server_error(market, app_settings):
    app = create_app(app_settings, deployment=fake_deployment(), engine=market.engine)
    urls = list(_edge_requests(app, None, "/api/v1/uses"))
    assert len(urls) > 100
    errors = _server_errors(app, urls)
    assert not errors, "\n".join(errors[:10])


def test_use_routes_parameters_at_their_edges_never_get_a_server_error(market, app_settings):
    app = create_app(app_settings, deployment=fake_deployment(), engine=market.engine)
    errors = _server_errors(app, list(_edge_requests(app, "/api/v1/uses", None)))
    assert not errors, "\n".join(errors[:10])
