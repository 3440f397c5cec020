"""Why a use report is refused, each in words the brand can act on.

Every class carries the HTTP status the API answers with, so the API maps them without a table of its own; each
also derives from the builtin it resembles (the project's convention, see `twin_licensing.errors`).
"""

from __future__ import annotations

from ..errors import TwinLicensingError


class UseReportRefused(TwinLicensingError):
    """A use report the backend will not accept; nothing was stored."""

    status_code = 422
    code = "use_report_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedReport(UseReportRefused, ValueError):
    code = "malformed_report"


class InvalidSignature(UseReportRefused, ValueError):
    code = "invalid_signature"


class UnknownLicense(UseReportRefused, LookupError):
    status_code = 404
    code = "unknown_license"


class NotLicenseHolder(UseReportRefused, PermissionError):
    status_code = 403
    code = "not_license_holder"


class LicenseExpired(UseReportRefused):
    status_code = 409
    code = "license_expired"


class ConsentRevoked(UseReportRefused):
    status_code = 409
    code = "consent_revoked"


class CategoryNotAllowed(UseReportRefused, ValueError):
    code = "category_not_allowed"


class TerritoryNotAllowed(UseReportRefused, ValueError):
    code = "territory_not_allowed"


class MaxUsesReached(UseReportRefused):
    status_code = 409
    code = "max_uses_reached"


class InsufficientEscrow(UseReportRefused):
    status_code = 402
    code = "insufficient_escrow"


class LicenseUnsettleable(UseReportRefused):
    """Earlier uses of the licence cannot be settled; more would only add to what cannot be paid."""

    status_code = 409
    code = "license_unsettleable"


class UseNotFound(TwinLicensingError, LookupError):
    status_code = 404
    code = "use_not_found"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProofNotAvailable(TwinLicensingError, LookupError):
    """The use is not settled yet, so there is no root on chain to prove it against."""

    status_code = 409
    code = "proof_not_available"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
