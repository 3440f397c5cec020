"""Every router of the API, gathered here: a resource is one module with one `router`, added to the list."""

from __future__ import annotations

from fastapi import APIRouter

from . import accounts, earnings, licenses, twins, uses

api_router = APIRouter()
for module in (uses, twins, licenses, earnings, accounts):
    api_router.include_router(module.router)
