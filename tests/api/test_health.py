"""`/health`: database, node and index lag."""

from __future__ import annotations

from kit.read_api import app_client, app_settings, market  # noqa: F401
from sqlalchemy import text


def test_health_without_node_is_degraded_not_down(app_client):
    response = app_client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded" and body["database"] is True and body["chain"] is False
    assert body["index_block"] == 100 and body["chain_id"] == 31337


def test_health_ok_when_the_index_follows_the_head(app_client):
    class Head:
        def head(self):
            return 102

    app_client.app.state.context.chain_reader = Head()
    body = app_client.get("/health").json()
    assert body["status"] == "ok" and body["chain_head"] == 102 and body["index_lag_blocks"] == 2


def test_health_degraded_when_the_index_lags(app_client):
    class Head:
        def head(self):
            return 500

    app_client.app.state.context.chain_reader = Head()
    assert app_client.get("/health").json()["status"] == "degraded"


def test_health_down_when_the_database_fails(app_client, market):
    with market.engine.begin() as conn:
        conn.execute(text("DROP TABLE index_cursors"))
    response = app_client.get("/health")
    assert response.status_code == 503 and response.json()["status"] == "down"
