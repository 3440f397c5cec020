"""A strict parser of Sign-In with Ethereum messages (EIP-4361), and the message a server asks a wallet to sign.

Written here rather than taken from PyPI: the `siwe` (4.4.0) and `signinwithethereum` (5.0.2) packages pin
eth-account < 0.14 and web3 7, and installing either would downgrade the web3 8 this project runs on. The format is
line-based and small, so this module parses it line by line, exactly as the EIP's grammar orders the lines, and
refuses anything else (a missing or reordered field, an extra line, a lowercase address) with one sentence. What
the server then checks (domain, URI, chain id, nonce, times, signature) is `api/sessions.py`'s; recovering the
signer is `chain/signin.py`'s (only chain/ imports eth_account).

    example.com wants you to sign in with your Ethereum account:
    0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2

    Sign in to Twin Licence.

    URI: https://example.com
    Version: 1
    Chain ID: 1
    Nonce: 32891756
    Issued At: 2021-09-30T16:25:24Z
    Expiration Time: ...        (optional, and the three below)
    Not Before: ...
    Request ID: ...
    Resources:
    - https://example.com/terms
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from ..chain.hashing import checksum_address
from ..errors import InvalidRequestError

MAX_MESSAGE_CHARS = 4096
PREAMBLE = " wants you to sign in with your Ethereum account:"
_DOMAIN = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?[A-Za-z0-9.-]+(?::[0-9]{1,5})?$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_NONCE = re.compile(r"^[A-Za-z0-9]{8,64}$")
_URI = re.compile(r"^[a-z][a-z0-9+.-]*:[^\s]+$")
_CHAIN_ID = re.compile(r"^[1-9][0-9]{0,18}$")
# RFC 3339 date-time: seconds required, fraction optional, "Z" or an offset.
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$")
_OPTIONAL = (("Expiration Time", "expiration_time"), ("Not Before", "not_before"), ("Request ID", "request_id"))


class MalformedSignInMessage(InvalidRequestError):
    """The text is not an EIP-4361 message."""

    code = "malformed_signin_message"


@dataclass(frozen=True)
class SignInMessage:
    domain: str  # as written, with a scheme if the message has one
    address: str  # EIP-55 checksummed, as written
    statement: str | None
    uri: str
    version: str
    chain_id: int
    nonce: str
    issued_at: datetime
    expiration_time: datetime | None = None
    not_before: datetime | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = ()

    @property
    def host(self) -> str:
        """The domain without its scheme: what is compared with the host the API serves."""
        return self.domain.split("://", 1)[-1]

    def text(self) -> str:
        """The message as the EIP writes it (what a wallet shows and signs)."""
        lines = [f"{self.domain}{PREAMBLE}", self.address, ""]
        if self.statement is not None:
            lines += [self.statement, ""]
        lines += [
            f"URI: {self.uri}", f"Version: {self.version}", f"Chain ID: {self.chain_id}", f"Nonce: {self.nonce}",
            f"Issued At: {_iso(self.issued_at)}",
        ]
        if self.expiration_time is not None:
            lines.append(f"Expiration Time: {_iso(self.expiration_time)}")
        if self.not_before is not None:
            lines.append(f"Not Before: {_iso(self.not_before)}")
        if self.request_id is not None:
            lines.append(f"Request ID: {self.request_id}")
        if self.resources:
            lines += ["Resources:", *(f"- {r}" for r in self.resources)]
        return "\n".join(lines)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bad(what: str) -> MalformedSignInMessage:
    return MalformedSignInMessage(f"The sign-in message is not in the EIP-4361 form ({what}): sign in again from the page.")


def _time(value: str, name: str) -> datetime:
    if not _TIME.match(value):
        raise _bad(f"“{name}” is not an RFC 3339 time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"“{name}” is not a real date") from None
    return parsed.astimezone(timezone.utc)


def is_checksummed(address: str) -> bool:
    return bool(_ADDRESS.match(address)) and checksum_address(bytes.fromhex(address[2:])) == address


def parse_message(text: str) -> SignInMessage:
    """The message `text` as fields, or `MalformedSignInMessage` saying which part is wrong."""
    if not isinstance(text, str) or not text:
        raise _bad("it is empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise _bad(f"it is longer than {MAX_MESSAGE_CHARS} characters")
    if "\r" in text:
        raise _bad("it has carriage returns; lines end with a line feed alone")
    lines = text.split("\n")
    pos = 0

    def take() -> str:
        nonlocal pos
        if pos >= len(lines):
            raise _bad("it ends too early")
        pos += 1
        return lines[pos - 1]

    first = take()
    if not first.endswith(PREAMBLE):
        raise _bad("the first line must end with “wants you to sign in with your Ethereum account:”")
    domain = first[: -len(PREAMBLE)]
    if not _DOMAIN.match(domain):
        raise _bad("the domain is not a host name")
    address = take()
    if not _ADDRESS.match(address):
        raise _bad("the second line must be the 0x address")
    if not is_checksummed(address):
        raise _bad("the address must be in its EIP-55 mixed-case form")
    if take() != "":
        raise _bad("an empty line must follow the address")
    statement = None
    line = take()
    if line != "":
        if line.startswith("URI: "):
            raise _bad("two empty lines must separate the address from the URI when there is no statement")
        statement = line
        if take() != "":
            raise _bad("an empty line must follow the statement")
    fields: dict[str, str] = {}
    for name in ("URI", "Version", "Chain ID", "Nonce", "Issued At"):
        line = take()
        prefix = f"{name}: "
        if not line.startswith(prefix):
            raise _bad(f"“{name}:” is missing or out of order")
        fields[name] = line[len(prefix):]
    optional: dict[str, str] = {}
    remaining = list(_OPTIONAL)
    resources: list[str] = []
    while pos < len(lines):
        line = take()
        for index, (name, key) in enumerate(remaining):
            if line.startswith(f"{name}: "):
                optional[key] = line[len(name) + 2:]
                remaining = remaining[index + 1:]
                break
        else:
            if line != "Resources:":
                raise _bad("a line after “Issued At” is not a known field")
            while pos < len(lines):
                item = take()
                if not item.startswith("- ") or not _URI.match(item[2:]):
                    raise _bad("each resource must be a line “- <URI>”")
                resources.append(item[2:])
            break
    if not _URI.match(fields["URI"]):
        raise _bad("the URI is not a URI")
    if fields["Version"] != "1":
        raise _bad("the version must be 1")
    if not _CHAIN_ID.match(fields["Chain ID"]):
        raise _bad("the chain id is not a number")
    if not _NONCE.match(fields["Nonce"]):
        raise _bad("the nonce must be 8 or more letters and digits")
    request_id = optional.get("request_id")
    if request_id is not None and any(c.isspace() for c in request_id):
        raise _bad("the request id has spaces")
    if statement is not None and "\n" in statement:
        raise _bad("the statement is more than one line")
    return SignInMessage(
        domain=domain,
        address=address,
        statement=statement,
        uri=fields["URI"],
        version="1",
        chain_id=int(fields["Chain ID"]),
        nonce=fields["Nonce"],
        issued_at=_time(fields["Issued At"], "Issued At"),
        expiration_time=_time(optional["expiration_time"], "Expiration Time") if "expiration_time" in optional else None,
        not_before=_time(optional["not_before"], "Not Before") if "not_before" in optional else None,
        request_id=request_id,
        resources=tuple(resources),
    )
