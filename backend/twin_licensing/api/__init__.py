"""The HTTP API (FastAPI, under /api/v1): `create_app(settings)` builds it."""

from .app import create_app

__all__ = ["create_app"]
