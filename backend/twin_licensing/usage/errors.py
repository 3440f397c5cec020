"""Why a use report is refused, each in words the brand can act on.

Every class carries the HTTP status the API answers with, so the API maps them without a table of its own; each
also derives from the builtin it resembles (the project's convention, see `twin_licensing.errors`).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..domain.use_record import FIELDS_BY_NAME
from ..errors import TwinLicensingError


def sentence(text: str) -> str:
    """A clause as the one sentence a client shows: capital first letter, full stop."""
    text = text.strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def plural(count: int, word: str, words: str | None = None) -> str:
    """"1 use", "3 uses"."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


class UseReportRefused(TwinLicensingError):
    """A use report the backend will not accept; nothing was stored. `fields` are for programs: the API adds them
    to its answer beside the sentence (`expected_seq` of a sequence mismatch)."""

    status_code = 422
    code = "use_report_refused"

    def __init__(self, reason: str, **fields: Any) -> None:
        reason = sentence(reason)
        super().__init__(reason)
        self.reason = reason
        self.fields = fields


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


class FormerHolder(NotLicenseHolder):
    """Signed by someone who held the licence before it passed on: the contract would refuse to pay it (NotHolder)."""

    code = "former_license_holder"


class SequenceMismatch(UseReportRefused):
    """The signed `seq` is not the licence's next number (another report took it, or it skips ahead): the client
    signs the report again with `expected_seq`."""

    status_code = 409
    code = "sequence_mismatch"

    def __init__(self, reason: str, expected_seq: int) -> None:
        super().__init__(reason, expected_seq=expected_seq)
        self.expected_seq = expected_seq


class UsedAfterEnd(UseReportRefused):
    """The use is dated at or after the licence's end (or its category's revocation): the contract skips it
    (SignedAfterEnd), so it could never be paid."""

    status_code = 409
    code = "used_after_end"


class LicenseExpired(UseReportRefused):
    status_code = 409
    code = "license_expired"


class LicenseEnded(UseReportRefused):
    """The model ended the exclusive licence for being idle: the contract settles nothing of it any more."""

    status_code = 409
    code = "license_ended"


class ConsentRevoked(UseReportRefused):
    status_code = 409
    code = "consent_revoked"


class CategoryConsentRevoked(UseReportRefused):
    """The model's revocation of the use's category took effect: the contract settles no use of it any more."""

    status_code = 409
    code = "category_consent_revoked"


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
        reason = sentence(reason)
        super().__init__(reason)
        self.reason = reason


class ProofNotAvailable(TwinLicensingError, LookupError):
    """The use is not settled yet, so there is no root on chain to prove it against."""

    status_code = 409
    code = "proof_not_available"

    def __init__(self, reason: str) -> None:
        reason = sentence(reason)
        super().__init__(reason)
        self.reason = reason


# What a request's own fields must look like, beyond the use record's declared fields.
_OTHER_RULES = {
    "signature": "the signature must be 0x followed by 130 hex digits (65 bytes: r, s, v), as the wallet returns it",
    "use_id": "the use id must be a whole number from 1, as returned when the use was reported",
    "label": "the label must be text of 1 to 200 characters",
}


def _fields_in_words(fields: Mapping[str, Any]) -> str:
    """"license_id, use_ref and signature (label is optional)" for a model's `model_fields`."""
    required = [name for name, info in fields.items() if info.is_required()]
    optional = [name for name in fields if name not in required]
    listed = ", ".join(required[:-1]) + (" and " if len(required) > 1 else "") + (required[-1] if required else "")
    if optional:
        listed += f" ({', '.join(optional)} {'is' if len(optional) == 1 else 'are'} optional)"
    return listed


def malformed(errors: Sequence[dict[str, Any]], fields: Mapping[str, Any]) -> MalformedReport:
    """The refusal of a request that does not have the report's shape, from pydantic's error list: one sentence
    about the first problem, in the words of the field's declared rule (pydantic's own messages are for
    developers). `fields` are the expected model's `model_fields`."""
    if not errors:
        return MalformedReport("the report could not be read: send a JSON object with the report's fields")
    first = errors[0]
    kind = first.get("type", "")
    loc = [str(part) for part in first.get("loc", ()) if not isinstance(part, int)]
    field = loc[-1] if loc and loc[-1] not in ("body", "path", "query") else None
    if kind == "json_invalid" or field is None:
        return MalformedReport(f"the report could not be read: send a JSON object with {_fields_in_words(fields)}")
    if kind == "extra_forbidden":
        return MalformedReport(
            f'the report has a field this service does not know, "{field}": send only {_fields_in_words(fields)}'
        )
    declared = FIELDS_BY_NAME.get(field)
    rule = declared.rule if declared is not None else _OTHER_RULES.get(field, f"{field} has a value this service cannot use")
    if kind == "missing":
        return MalformedReport(f"the report lacks {field}: {rule}")
    if kind == "value_error":
        error = first.get("ctx", {}).get("error")
        return MalformedReport(str(error) if error else rule)
    return MalformedReport(rule)
