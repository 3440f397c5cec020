"""Why an image, a credential or a report about an image is refused: each with its HTTP status and one sentence."""

from __future__ import annotations

from ..errors import RequestRefused
from ..usage.errors import sentence


class ProvenanceRefused(RequestRefused):
    """An image or request the provenance endpoints will not take; nothing was stored."""

    status_code = 422
    code = "provenance_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(sentence(reason))


class ImageTooLarge(ProvenanceRefused, ValueError):
    status_code = 413
    code = "image_too_large"


class NotAnImage(ProvenanceRefused, ValueError):
    status_code = 415
    code = "not_an_image"


class BadImage(ProvenanceRefused, ValueError):
    code = "bad_image"


class AssetMismatch(ProvenanceRefused, ValueError):
    status_code = 409
    code = "asset_mismatch"


class AssetNotFound(ProvenanceRefused, LookupError):
    status_code = 404
    code = "asset_not_found"


class CredentialsNotConfigured(ProvenanceRefused, LookupError):
    status_code = 503
    code = "credentials_not_configured"

