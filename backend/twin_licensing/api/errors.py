"""Domain errors -> 4xx JSON `{"detail": reason, "code": ...}`: a refusal is never a 500.

Each domain error class carries its `status_code` and a machine-readable `code`; the reason is written for the
person who will read it in the web client.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from ..errors import ContractRevert, DeploymentNotFoundError, RpcConnectionError, TwinLicensingError

log = logging.getLogger("twin_licensing.api")


def _json(status: int, detail: str, code: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail, "code": code})


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    status = getattr(exc, "status_code", None)
    code = getattr(exc, "code", None) or type(exc).__name__
    reason = getattr(exc, "reason", None) or str(exc)
    if isinstance(exc, (DeploymentNotFoundError, RpcConnectionError)):
        return _json(503, f"the service is not ready: {exc}", "not_ready")
    if isinstance(exc, ContractRevert):
        return _json(409, f"the chain refused: {exc}", exc.name)
    return _json(status if isinstance(status, int) and 400 <= status < 500 else 400, reason, code)


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database error on %s: %s", request.url.path, exc)
    return _json(503, "the database is busy or unavailable; retry in a moment", "database_unavailable")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TwinLicensingError, _domain_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
