"""The project's exceptions.

Everything the project raises on purpose derives from `TwinLicensingError`, so the console and the API can turn
it into a one-line message or an HTTP status. Each error also derives from the builtin it resembles, so callers
that only know Python's own exceptions (`except ValueError`) still catch it.
"""

from __future__ import annotations

from typing import Any


class TwinLicensingError(Exception):
    """Root of every error the project raises on purpose."""


class ConfigurationError(TwinLicensingError, ValueError):
    """A setting, file or argument is missing or malformed."""


class KeyNotConfiguredError(ConfigurationError, LookupError):
    """A role's private key is needed but neither the environment nor a key file gives one."""


class DevelopmentKeyRefusedError(TwinLicensingError, PermissionError):
    """A well-known development key was offered for a chain other than the local one."""


class ArtifactNotFoundError(TwinLicensingError, FileNotFoundError):
    """A contract's Hardhat artifact is missing (the contracts were not compiled)."""


class DeploymentNotFoundError(TwinLicensingError, FileNotFoundError):
    """No deployment file exists for the chain."""


class DeploymentMismatchError(TwinLicensingError, ValueError):
    """The deployment file describes another chain (for example a local node that was restarted)."""


class NodeStartError(TwinLicensingError, RuntimeError):
    """The local chain node did not start or did not answer in time."""


class RpcConnectionError(TwinLicensingError, ConnectionError):
    """The JSON-RPC endpoint cannot be reached."""


class TransactionError(TwinLicensingError, RuntimeError):
    """A transaction failed for a reason other than a decoded contract revert."""


class ContractRevert(TransactionError):
    """A contract call reverted with a custom error (or `Error(string)` / `Panic(uint256)`).

    `name` is the error's name, `args` the decoded values in parameter order (the exception's own `args`) and
    `named_args` the same keyed by parameter name, so callers branch on `exc.name == "LicenseTokenSequenceMismatch"`
    and read `exc.named_args["expected"]`.
    """

    def __init__(self, name: str, named_args: dict[str, Any], selector: str = "", data: str = "") -> None:
        super().__init__(*named_args.values())
        self.name = name
        self.named_args = dict(named_args)
        self.selector = selector
        self.data = data

    def __reduce__(self):  # the default would call __init__(*args) and lose the names
        return (type(self), (self.name, self.named_args, self.selector, self.data))

    def __str__(self) -> str:
        """`Name(arg=value, ...)`, the readable form of the revert."""
        inner = ", ".join(f"{key}={_show(value)}" for key, value in self.named_args.items())
        return f"{self.name}({inner})"


class SeedError(TwinLicensingError, RuntimeError):
    """The demo data cannot be seeded on this chain."""


class RequestRefused(TwinLicensingError):
    """A request the API refuses: `reason` is one sentence the person using the web client can act on, `status_code`
    the HTTP status and `code` a stable name for programs."""

    status_code = 400
    code = "bad_request"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFoundError(RequestRefused, LookupError):
    """What the request names does not exist (or not yet: the index may be catching up)."""

    status_code = 404
    code = "not_found"


class LocalChainOnlyError(RequestRefused, LookupError):
    """Development accounts and the node relay exist on the local chain only."""

    status_code = 404
    code = "local_chain_only"


class MethodNotRelayedError(RequestRefused, PermissionError):
    """A JSON-RPC method the development relay does not pass to the node (node administration)."""

    status_code = 403
    code = "method_not_relayed"


class InvalidRequestError(RequestRefused, ValueError):
    """A request body or parameter the API cannot use."""

    status_code = 422
    code = "invalid_request"


def _show(value: Any) -> str:
    """Shows bytes as 0x-hex and everything else as Python would, so revert messages stay readable."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, str):
        return value if value.startswith("0x") else repr(value)  # addresses and hashes read better bare
    return str(value)
