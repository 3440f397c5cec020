"""Every router of the application, gathered here: a resource is one module with one `router`.

`api_router` serves the API under `API_PREFIX`; `operations_router` the probes at the root (`/health`, `/metrics`),
where process supervisors and Prometheus look for them; `docs_router` the OpenAPI documents and Swagger UI.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import accounts, deployment, dev_rpc, docs, earnings, health, licenses, metrics, signin, statements, twins, uses
from . import provenance  # issue 13: use images, content credentials, the image check
from . import consent_documents  # issue 12: consent texts, content-addressed
from . import licences_in_force  # issue 12: what a buyer checks exclusivity against, public
from . import attestations, payees  # issue 10: the guild's attestations, payees' pending listings
from . import usage_log  # issue 12: the usage log of a twin's model, payees and guild
from .paths import API_PREFIX

api_router = APIRouter(prefix=API_PREFIX)
for module in (uses, twins, licenses, earnings, statements, accounts, deployment, dev_rpc, signin):
    api_router.include_router(module.router)
api_router.include_router(usage_log.router)
api_router.include_router(provenance.router)
api_router.include_router(consent_documents.router)
api_router.include_router(licences_in_force.router)
api_router.include_router(attestations.router)
api_router.include_router(payees.router)

operations_router = APIRouter()
for module in (health, metrics):
    operations_router.include_router(module.router)

docs_router = docs.router

__all__ = ["API_PREFIX", "api_router", "docs_router", "operations_router"]
