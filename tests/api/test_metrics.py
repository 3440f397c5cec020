"""Prometheus `/metrics`: request counts and latency by route template, and the index's gauges."""

from __future__ import annotations

from kit.read_api import app_client, app_settings, market  # noqa: F401


def test_metrics_count_requests_by_route_template(app_client):
    app_client.get("/api/v1/twins/1")
    app_client.get("/api/v1/twins/2")
    app_client.get("/api/v1/twins/0")
    response = app_client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'twin_api_requests_total{method="GET",route="/api/v1/twins/{twin_id}",status="200"} 2.0' in text
    assert 'twin_api_requests_total{method="GET",route="/api/v1/twins/{twin_id}",status="422"} 1.0' in text
    assert 'twin_api_request_duration_seconds_bucket{le="0.1",method="GET",route="/api/v1/twins/{twin_id}"}' in text


def test_metrics_show_the_index(app_client):
    text = app_client.get("/metrics").text
    assert "twin_index_block 100.0" in text
    assert "twin_twins 3.0" in text and "twin_licenses 4.0" in text
    assert 'twin_uses{state="reported"} 9.0' in text and 'twin_uses{state="settled"} 8.0' in text


def test_unknown_paths_are_counted_as_unmatched(app_client):
    app_client.get("/nothing/here")
    assert 'route="unmatched",status="404"' in app_client.get("/metrics").text
