"""Shared fixtures: one local Hardhat node and one deployment per test session, each test isolated by
`evm_snapshot` / `evm_revert`, named development accounts, and a helper asserting a named custom-error revert."""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Any, Iterator

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from twin_licensing.chain.client import Chain
from twin_licensing.chain.deploy import DeployResult, deploy
from twin_licensing.chain.deployment import Deployment
from twin_licensing.chain.keys import dev_account
from twin_licensing.chain.node import LocalNode
from twin_licensing.errors import ContractRevert
from twin_licensing.seed import data
from twin_licensing.settings import find_project_root

PROJECT_ROOT = find_project_root()

# Fixtures every suite may use: `postgres` (databases on the local PostgreSQL server); the market, databases,
# accounts and processes of the use, settlement, API and audit tests.
pytest_plugins = ["kit.postgres", "kit.use_fixtures"]

# Tests that run longest, started first: under pytest-xdist a long test picked up last would finish the run alone on
# one worker while the other idles. Paths relative to tests/; a directory takes every test in it.
LONGEST_FIRST = (
    "web/",
    "settlement/test_crash.py",
    "contracts/test_invariants.py",
    "scripts/test_up.py",
    "indexer/test_node_restart.py",
)

# Tests that run on one worker, in collection order, as one unit of work (paths relative to tests/):
# - "chromium": the browser tests share one whole system per session (`twinctl up`, a minute on 2 cores) and one
#   Chromium; a test that starts Playwright itself runs there too, before the session's browser (one sync Playwright
#   per process; see `rank`);
# - "twinctl-up": scripts/test_up.py shares one `up` across its tests (another minute).
# pytest-xdist's own `xdist_group` marker does not group under pytest 9.2 (xdist 3.8 renames the item through an
# attribute pytest no longer reads, so the tests of a group were spread over both workers, each starting its own
# system), hence the scheduler below, which groups by node id.
SHARED_WORKER = (
    ("web/", "chromium"),
    ("scripts/test_up.py", "twinctl-up"),
)


@functools.cache
def _source(path: Path) -> str:
    return path.read_text()


def _starts_its_own_playwright(path: Path) -> bool:
    return "sync_playwright" in _source(path)


def shared_worker_group(nodeid: str, tests_dir: Path) -> str | None:
    """The group of a test id (`tests/web/test_x.py::test_y[z]`), or None for a test any worker may run."""
    path = (tests_dir.parent / nodeid.split("::", 1)[0]).resolve()
    if not path.is_relative_to(tests_dir):
        return None
    relative = path.relative_to(tests_dir).as_posix()
    group = next((name for prefix, name in SHARED_WORKER if relative.startswith(prefix)), None)
    if group is None and path.is_file() and _starts_its_own_playwright(path):
        group = "chromium"
    return group


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`--dist loadgroup`, with the groups of SHARED_WORKER. Units are handed out largest first (xdist's default
    reordering): the Chromium group to one worker at once, `up`'s to the other, then single tests longest first."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    tests_dir = Path(__file__).resolve().parent

    class SharedWorkerScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return shared_worker_group(nodeid, tests_dir) or super()._split_scope(nodeid)

    return SharedWorkerScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests_dir = Path(__file__).resolve().parent

    def starts_its_own_playwright(item: pytest.Item) -> bool:
        # One sync Playwright per process: such a test must run before the session's `browser` starts in its worker.
        uses_session_browser = "browser" in item.fixturenames or "system" in item.fixturenames
        return not uses_session_browser and _starts_its_own_playwright(item.path)

    def rank(item: pytest.Item) -> int:
        if starts_its_own_playwright(item):
            return -1
        path = item.path.relative_to(tests_dir).as_posix() if item.path.is_relative_to(tests_dir) else ""
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if path.startswith(prefix)), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the order within each rank is the collection's


# ------------------------------------------------------------------ the node and the deployment (per session)


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def local_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNode]:
    log = tmp_path_factory.mktemp("node") / "hardhat-node.log"
    with LocalNode(PROJECT_ROOT, log_path=log) as node:
        yield node


@pytest.fixture(scope="session")
def deployments_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Tests never touch the developer's deployments/ directory.
    return tmp_path_factory.mktemp("deployments")


@pytest.fixture(scope="session")
def base_chain(local_node: LocalNode) -> Chain:
    return Chain.connect(local_node.url, PROJECT_ROOT / "artifacts")


@pytest.fixture(scope="session")
def deployed(base_chain: Chain, deployments_dir: Path) -> DeployResult:
    return deploy(
        base_chain,
        dev_account(data.ADMIN),
        deployments_dir,
        guild=dev_account(data.GUILD).address,
        recorder=dev_account(data.RECORDER).address,
    )


@pytest.fixture(scope="session")
def deployment(deployed: DeployResult) -> Deployment:
    return deployed.deployment


@pytest.fixture(scope="session")
def chain(base_chain: Chain, deployment: Deployment) -> Chain:
    """The chain bound to the session's deployment: `chain.transact(account, "LicenseToken", "settle", items)`."""
    return base_chain.bind(deployment)


@pytest.fixture(autouse=True)
def evm_isolation(request: pytest.FixtureRequest) -> Iterator[None]:
    """Runs every test that touches the chain inside a snapshot, reverted afterwards.

    Tests that do not use the chain do not start the node for nothing.
    """
    if "chain" not in request.fixturenames:
        yield
        return
    node_chain: Chain = request.getfixturevalue("chain")
    snapshot = node_chain.rpc("evm_snapshot")
    try:
        yield
    finally:
        reverted = node_chain.rpc("evm_revert", [snapshot])
        # The accounts' nonces went back with the chain; the senders must re-read them.
        node_chain.resync_nonces()
        assert reverted, f"evm_revert({snapshot}) failed: later tests would not start from a clean chain"


# ------------------------------------------------------------------ web3 handles of the contracts


@pytest.fixture(scope="session")
def w3(chain: Chain) -> Web3:
    return chain.w3


@pytest.fixture(scope="session")
def registry(chain: Chain) -> Contract:
    return chain.contract("TwinRegistry")


@pytest.fixture(scope="session")
def license_token(chain: Chain) -> Contract:
    return chain.contract("LicenseToken")


@pytest.fixture(scope="session")
def payment_token(chain: Chain) -> Contract:
    return chain.contract("PaymentToken")


# ------------------------------------------------------------------ named accounts (seed/data.py's account map)


@pytest.fixture(scope="session")
def admin() -> LocalAccount:
    return dev_account(data.ADMIN)


@pytest.fixture(scope="session")
def guild() -> LocalAccount:
    return dev_account(data.GUILD)


@pytest.fixture(scope="session")
def recorder() -> LocalAccount:
    return dev_account(data.RECORDER)


@pytest.fixture(scope="session")
def agencies() -> list[LocalAccount]:
    return [dev_account(a.index) for a in data.AGENCIES]


@pytest.fixture(scope="session")
def models() -> list[LocalAccount]:
    return [dev_account(i) for i in data.MODEL_INDICES]


@pytest.fixture(scope="session")
def brands() -> list[LocalAccount]:
    return [dev_account(b.index) for b in data.BRANDS]


@pytest.fixture(scope="session")
def crew() -> list[LocalAccount]:
    return [dev_account(c.index) for c in data.CREW]


# ------------------------------------------------------------------ reverts


class _Reverted:
    """What `reverts(...)` caught, for further assertions."""

    error: ContractRevert | None = None


@pytest.fixture(scope="session")
def reverts(chain: Chain):
    """Asserts the block reverts with the named custom error and, if given, exactly these arguments.

        with reverts("LicenseTokenSequenceMismatch", licenseId=3, expected=5, firstSeq=7):
            chain.transact(recorder, "LicenseToken", "settle", items)
        with reverts("LicenseTokenZeroAmount"):
            license_token.functions.topUpEscrow(1, 0).transact({"from": brand.address})

    Positional arguments match the error's parameters in order; keyword arguments match them by name. Works
    with the chain package's `ContractRevert` and with web3's own exceptions (decoded from all project ABIs).
    """

    @contextlib.contextmanager
    def _reverts(name: str, *args: Any, **named: Any) -> Iterator[_Reverted]:
        caught = _Reverted()
        try:
            yield caught
        except ContractRevert as exc:
            caught.error = exc
        except Exception as exc:  # web3 exceptions from direct contract calls
            decoded = chain.decoder.from_exception(exc)
            if decoded is None:
                raise AssertionError(f"expected revert {name}, got {type(exc).__name__}: {exc}") from exc
            caught.error = decoded
        else:
            raise AssertionError(f"expected revert {name}, but nothing reverted")
        error = caught.error
        assert error.name == name, f"expected revert {name}, got {error}"
        if args:
            assert tuple(error.args[: len(args)]) == args, f"expected {name}{args}, got {error}"
        for key, value in named.items():
            assert key in error.named_args, f"{name} has no argument {key!r}: {error}"
            assert error.named_args[key] == value, f"expected {name} {key}={value!r}, got {error}"

    return _reverts
