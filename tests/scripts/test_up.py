"""`twinctl up` (what `make run` runs) as a developer uses it: the whole system comes up, the web client answers with
the seeded catalogue, a crashed indexer, settler or API comes back without losing the chain or an accepted use,
the death of the node stops everything, and Ctrl-C stops every process it started.

Starting `up` costs a node, a deployment and a seed: one `up` is shared by the tests of this module. Ctrl-C ends it:
that test takes whichever is running, and a test that needs one afterwards starts a new one, so any order (or a
split across xdist workers) works. The node's death is tested on an `up` of its own, without the demo data. The
restart policy itself (backoff, the crash limit, a dead child's leftovers) is tested on small throwaway children at
the end, without a node.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from eth_account import Account

from kit.signin import session_cookie
from twin_licensing.chain.client import Chain
from twin_licensing.chain.deployment import read_deployment
from twin_licensing.chain.keys import dev_account
from twin_licensing.commands._supervisor import Child, ChildExited, RestartPolicy, Supervisor, ordinal
from twin_licensing.seed import data
from twin_licensing.settings import find_project_root

ROOT = find_project_root()
STARTUP_TIMEOUT = 180.0  # node, deployment, seed and three services on a busy 2-core machine
pytestmark = pytest.mark.timeout(300)  # one worker runs this module (SHARED_WORKER in tests/conftest.py)


class Up:
    """`twinctl up` in a scratch var/ and deployments/ directory, its output collected by a reader thread."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_") and k not in ("DATABASE_URL",)}
        env.update(TWIN_VAR_DIR=str(tmp_path / "var"), TWIN_DEPLOYMENTS_DIR=str(tmp_path / "deployments"))
        self.deployments_dir = tmp_path / "deployments"
        self.log_dir = tmp_path / "var" / "log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "twin_licensing.cli", "up", *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._chain: Chain | None = None

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:  # end of output: whoever waits for a line learns it will not come
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float, *, after: int = 0) -> re.Match:
        """The first line from index `after` on matching `pattern`, waiting for it as the output arrives."""
        deadline = time.monotonic() + timeout
        seen = after
        with self._changed:
            while True:
                for line in self.lines[seen:]:
                    if match := re.search(pattern, line):
                        return match
                seen = max(seen, len(self.lines))
                if not self._reader.is_alive():  # its output ended: it exited, or is about to
                    try:
                        self.process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        pass
                    raise AssertionError(f"twinctl up exited with {self.process.poll()} before printing a line "
                                         f"matching {pattern!r}:\n{self.output}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no line matching {pattern!r} within {timeout:.0f} s:\n{self.output}")
                self._changed.wait(left)

    def wait_ready(self) -> str:
        """The web client's URL, once `up` printed all it prints on starting (at once if it did already)."""
        url = self.wait_for_line(r"^Web client: (http://127\.0\.0\.1:\d+/)$", timeout=STARTUP_TIMEOUT)[1]
        self.wait_for_line(r"^running; press Ctrl-C to stop", timeout=10)
        return url

    def child_pids(self) -> dict[str, int]:
        """name -> current pid of each process `up` started, from what it printed (a restart prints a new one)."""
        pids = {}
        for line in self.lines:
            if match := re.match(r"local node: \S+ \(pid (\d+)\)", line):
                pids["node"] = int(match[1])
            elif match := re.match(r"(indexer|settler|api): pid (\d+)\b", line):
                pids[match[1]] = int(match[2])
        return pids

    def all_pids(self) -> set[int]:
        """Every pid `up` printed, the crashed and replaced ones included."""
        return {int(m[1]) for line in self.lines
                if (m := re.match(r"(?:local node: \S+ \(|(?:indexer|settler|api): )pid (\d+)", line))}

    def chain(self) -> Chain:
        """The chain of this `up`, bound to the deployment it wrote."""
        if self._chain is None:
            rpc_url = self.wait_for_line(r"^RPC URL: +(http://\S+)", timeout=5)[1]
            chain = Chain.connect(rpc_url, ROOT / "artifacts")
            self._chain = chain.bind(read_deployment(self.deployments_dir, chain.chain_id))
        return self._chain

    def stop(self) -> None:
        """Whatever happened in the test: no process of ours survives it (by PID, never by name)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.all_pids():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for every purpose but the process table of its (dead) parent.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


_GUILD_COOKIES: dict[str, str] = {}


def get_private(url: str) -> tuple[int, bytes]:
    """GET a licence or a use, which only their holder, the twin's model, payees and guild see: as the guild."""
    base = url[: url.index("/api/v1/") + 1]
    if base not in _GUILD_COOKIES:
        _GUILD_COOKIES[base] = session_cookie(base, dev_account(data.GUILD).key)
    request = urllib.request.Request(url, headers={"Cookie": _GUILD_COOKIES[base]})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def answers(url: str) -> bool:
    try:
        return get(url)[0] in (200, 503)  # a degraded health is an answer
    except OSError:
        return False


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def kill_and_wait_for_restart(up: Up, name: str) -> tuple[int, int]:
    """SIGKILLs `up`'s `name` and waits for `up` to say so and start it again, and for the API to answer /health:
    (old pid, new pid)."""
    old = up.child_pids()[name]
    mark = len(up.lines)
    os.kill(old, signal.SIGKILL)
    up.wait_for_line(rf"^{name} exited with -9 \(SIGKILL\); restarting in \d+\.\d s "
                     rf"\(\d+(st|nd|rd|th) restart in the last minute\); log: ", timeout=30, after=mark)
    new = int(up.wait_for_line(rf"^{name}: pid (\d+) \(restarted\); log: ", timeout=30, after=mark)[1])
    assert new != old and alive(new) and not alive(old), up.output
    url = up.wait_ready()
    wait_until(lambda: answers(url + "health"), 60, f"the API to answer /health after the {name}'s restart")
    return old, new


def buy_licence(up: Up, url: str) -> tuple[int, object, int, int]:
    """A seeded brand buys a licence on a seeded offer, and the API knows it (the indexer indexed it):
    (licence id, the brand's account, a category and a territory the licence covers)."""
    chain = up.chain()
    brand = dev_account(data.BRANDS[0].index)
    offer_id = 1
    terms = chain.call("LicenseToken", "offer", offer_id)[2]
    upfront, per_use_fee, categories, territories = terms[0], terms[1], terms[4], terms[5]
    escrow = 10 * per_use_fee
    chain.transact(brand, "PaymentToken", "approve", chain.deployment.license_token, upfront + escrow)
    chain.transact(brand, "LicenseToken", "buyLicense", offer_id, escrow)
    licence = chain.call("LicenseToken", "licenseCount")
    wait_until(lambda: get_private(f"{url}api/v1/licenses/{licence}")[0] == 200, 60, f"the API to know licence {licence}")
    lowest_bit = lambda mask: (mask & -mask).bit_length() - 1  # noqa: E731
    return licence, brand, lowest_bit(categories), lowest_bit(territories)


def report_use(up: Up, url: str, licence: int, brand, category: int, territory: int) -> int:
    """A use reported as the web client does: as the licence's next use (the API's `next_seq`), the API's EIP-712
    typed data signed by the holder, posted; signed again with the number the API expects if another report took
    it first (409)."""
    status, body = get_private(f"{url}api/v1/licenses/{licence}")
    assert status == 200, body
    fields = {"license_id": licence, "seq": json.loads(body)["next_seq"], "use_ref": "0x" + os.urandom(32).hex(),
              "category": category, "territory": territory, "used_at": up.chain().timestamp()}
    for _ in range(3):
        status, typed = post(url + "api/v1/uses/typed-data", fields)
        assert status == 200, typed
        signed = Account.sign_typed_data(brand.key, full_message=typed["typed_data"])
        status, use = post(url + "api/v1/uses", {**fields, "signature": "0x" + bytes(signed.signature).hex()})
        if status != 409 or "expected_seq" not in use:
            break
        fields["seq"] = use["expected_seq"]
    assert status == 201, use
    return use["id"]


def use_status(url: str, use_id: int) -> str:
    status, body = get_private(f"{url}api/v1/uses/{use_id}")
    assert status == 200, body
    return json.loads(body)["status"]


# ------------------------------------------------------------------ one `up` for the module


class Ups:
    """The module's running `up`, started on first use and again after a test ended it.

    An `up` that did not start is not tried again for every later test (minutes each on a busy machine): they
    fail at once with the first failure's output.
    """

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.current: Up | None = None
        self.startup_failure: str | None = None

    def running(self) -> Up:
        if self.current is None or self.current.process.poll() is not None:
            if self.current is not None:
                self.current.stop()
            self.current = Up(self.tmp_path_factory.mktemp("up"))
        return self.current


@pytest.fixture(scope="module")
def ups(tmp_path_factory: pytest.TempPathFactory):
    pool = Ups(tmp_path_factory)
    try:
        yield pool
    finally:
        if pool.current is not None:
            pool.current.stop()


@pytest.fixture
def up(ups: Ups) -> Up:
    if ups.startup_failure is not None:
        pytest.fail(f"an earlier `twinctl up` of this module did not start:\n{ups.startup_failure}")
    running = ups.running()
    try:
        running.wait_ready()
    except AssertionError as exc:
        ups.startup_failure = str(exc)
        raise
    return running


# ------------------------------------------------------------------ the system


def test_up_serves_the_web_client_with_the_seeded_catalogue(up: Up) -> None:
    url = up.wait_ready()
    assert re.search(r"^RPC URL: +http://127\.0\.0\.1:\d+", up.output, re.M), up.output
    pids = up.child_pids()
    assert set(pids) == {"node", "indexer", "settler", "api"}, up.output
    assert all(alive(pid) for pid in pids.values())

    status, body = get(url)
    assert status == 200 and b"<title>Twin Licence" in body
    wait_until(lambda: json.loads(get(url + "api/v1/twins?limit=100")[1])["count"] == 30, 60,
               "the indexer to index the 30 seeded twins")
    status, body = get(url + "api/v1/twins?limit=100")
    assert status == 200 and len(json.loads(body)["data"]) == 30
    for name in ("hardhat-node", "indexer", "settler", "api"):
        assert (up.log_dir / f"{name}.log").stat().st_size > 0, name


def test_a_killed_indexer_comes_back_and_indexes_what_happened_meanwhile(up: Up) -> None:
    url = up.wait_ready()
    kill_and_wait_for_restart(up, "indexer")
    # A licence bought after the crash reaches the API only through the new indexer.
    licence, *_ = buy_licence(up, url)
    assert get_private(f"{url}api/v1/licenses/{licence}")[0] == 200


def test_a_killed_settler_comes_back_and_settles_the_use_reported_before_the_kill(up: Up) -> None:
    url = up.wait_ready()
    licence, brand, category, territory = buy_licence(up, url)
    # Frozen first, so that the use is certainly accepted and not yet settled when the settler dies.
    settler = up.child_pids()["settler"]
    os.kill(settler, signal.SIGSTOP)
    try:
        use_id = report_use(up, url, licence, brand, category, territory)
        assert use_status(url, use_id) == "pending"
    finally:
        kill_and_wait_for_restart(up, "settler")  # SIGKILL ends a stopped process too
    wait_until(lambda: use_status(url, use_id) == "settled", 90, f"use {use_id} to settle after the restart")
    assert up.process.poll() is None, up.output


def test_a_killed_api_comes_back_on_the_same_port(up: Up) -> None:
    url = up.wait_ready()
    kill_and_wait_for_restart(up, "api")
    status, body = get(url + "api/v1/twins?limit=100")
    assert status == 200 and json.loads(body)["count"] == 30


def test_ctrl_c_stops_every_process(up: Up) -> None:
    pids = up.child_pids()
    up.process.send_signal(signal.SIGINT)
    assert up.process.wait(timeout=60) == 130
    up._reader.join(5)
    assert "Ctrl-C: stopping everything" in up.output
    assert up.lines[-1] == "stopped", up.output
    # Every child, the Hardhat node included, is gone: no orphan keeps a port or the database.
    assert [name for name, pid in pids.items() if alive(pid)] == []
    assert [pid for pid in up.all_pids() if alive(pid)] == []


@pytest.fixture
def unseeded_up(tmp_path: Path):
    """An `up` of its own for a test that ends it and needs no demo data (seeding is a good part of the start)."""
    running = Up(tmp_path, "--no-seed")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def test_the_death_of_the_node_stops_everything(unseeded_up: Up) -> None:
    up = unseeded_up
    pids = up.child_pids()
    mark = len(up.lines)
    os.kill(pids["node"], signal.SIGKILL)
    assert up.process.wait(timeout=60) == 1
    up._reader.join(5)
    after = "\n".join(up.lines[mark:])
    assert re.search(rf"node \(pid {pids['node']}\) exited unexpectedly with -9 \(SIGKILL\); log: ", after), after
    assert "stopping everything" in after and up.lines[-1] == "stopped", after
    assert "restarting in" not in after, after  # nothing is restarted against a dead chain
    assert [name for name, pid in pids.items() if alive(pid)] == []


# ------------------------------------------------------------------ the restart policy, on small children


def supervisor(tmp_path: Path, messages: list[str], **policy: float) -> Supervisor:
    return Supervisor(cwd=tmp_path, env=dict(os.environ), log_dir=tmp_path / "log", say=messages.append,
                      policy=RestartPolicy(**policy))


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_backoff_doubles_from_half_a_second_up_to_ten() -> None:
    assert [RestartPolicy().delay(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 10, 10]
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd"]


def test_a_crashed_child_is_restarted_with_a_new_pid_and_its_leftovers_are_killed(tmp_path: Path) -> None:
    messages: list[str] = []
    sup = supervisor(tmp_path, messages, first_delay_s=0.2)
    # The child starts a grandchild in its own process group (as the indexer forks its fetcher) and says its pid.
    pid_file = tmp_path / "grandchild.pid"
    child = sup.start("worker", python(
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen(['sleep', '120']); open({str(pid_file)!r}, 'w').write(str(p.pid)); time.sleep(120)"))
    try:
        wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), 30, "the grandchild's pid")
        grandchild = int(pid_file.read_text())
        os.kill(child.pid, signal.SIGKILL)
        assert sup.wait(lambda: sup.child("worker").pid != child.pid, timeout=30)
        assert messages[0] == ("worker exited with -9 (SIGKILL); restarting in 0.2 s (1st restart in the last "
                               "minute); log: log/worker.log")
        assert messages[1] == f"worker: pid {sup.child('worker').pid} (restarted); log: log/worker.log"
        assert alive(sup.child("worker").pid) and not alive(child.pid)
        wait_until(lambda: not alive(grandchild), 10, "the dead child's grandchild to be killed")
    finally:
        sup.stop_all(timeout=5)
    assert not alive(sup.child("worker").pid)


def test_a_child_that_keeps_crashing_ends_the_run_with_its_log(tmp_path: Path) -> None:
    messages: list[str] = []
    sup = supervisor(tmp_path, messages, first_delay_s=0.01)
    sup.start("settler", python("import sys; print('cannot start: the recorder key is missing'); sys.exit(3)"))
    try:
        with pytest.raises(ChildExited) as raised:
            sup.wait(timeout=60)
    finally:
        sup.stop_all(timeout=5)
    restarts = [m for m in messages if " restarting in " in m]
    assert [re.search(r"restarting in ([\d.]+) s \((\w+) restart", m).groups() for m in restarts] == \
        [("0.0", "1st"), ("0.0", "2nd"), ("0.0", "3rd"), ("0.1", "4th")]  # 0.01, 0.02, 0.04, 0.08 s
    assert raised.value.crashes == 5 and raised.value.code == 3
    assert "exited with 3, its 5th crash in the last minute: it keeps crashing" in str(raised.value)
    assert raised.value.child.log_tail().endswith("cannot start: the recorder key is missing")


def test_crashes_older_than_the_window_are_forgotten(tmp_path: Path) -> None:
    messages: list[str] = []
    # Each run lasts 0.4 s, longer than the 0.3 s window: every crash is the first of its window, none is final.
    sup = supervisor(tmp_path, messages, first_delay_s=0.05, window_s=0.3, max_crashes=2)
    sup.start("api", python("import sys, time; time.sleep(0.4); sys.exit(1)"))
    try:
        assert sup.wait(lambda: sum(" restarting in " in m for m in messages) >= 3, timeout=60)
    finally:
        sup.stop_all(timeout=5)
    assert all("(1st restart in the last 0.3 s)" in m for m in messages if " restarting in " in m), messages


def test_an_adopted_child_is_never_restarted(tmp_path: Path) -> None:
    messages: list[str] = []
    sup = supervisor(tmp_path, messages, first_delay_s=0.01)
    process = subprocess.Popen(python("import time; time.sleep(120)"), start_new_session=True)
    node = sup.adopt(Child("node", process.pid, tmp_path / "node.log", process.poll,
                           lambda timeout: (process.kill(), process.wait())))
    try:
        os.kill(process.pid, signal.SIGKILL)
        with pytest.raises(ChildExited, match=r"node \(pid \d+\) exited unexpectedly with -9 \(SIGKILL\)"):
            sup.wait(timeout=30)
    finally:
        sup.stop_all(timeout=5)
    assert messages == [] and sup.child("node") is node


def test_stop_all_stops_the_services_together_and_the_adopted_node_last(tmp_path: Path) -> None:
    messages: list[str] = []
    sup = supervisor(tmp_path, messages)
    process = subprocess.Popen(python("import time; time.sleep(120)"), start_new_session=True)
    services_alive_when_node_stopped: list[bool] = []

    def stop_node(timeout: float) -> None:
        services_alive_when_node_stopped.extend(alive(sup.child(name).pid) for name in ("a", "b"))
        process.kill()
        process.wait()

    sup.adopt(Child("node", process.pid, tmp_path / "node.log", process.poll, stop_node))
    # Each service takes a moment to honour SIGTERM, as the settler finishing a batch does.
    slow = "import signal, sys, time\nsignal.signal(signal.SIGTERM, lambda *a: (time.sleep(0.5), sys.exit(0)))\n" \
           "print('handler', 'installed', flush=True)\ntime.sleep(120)"  # the log's header shows the argv
    a, b = sup.start("a", python(slow)), sup.start("b", python(slow))
    wait_until(lambda: all("handler installed" in c.log_tail() for c in (a, b)), 30,
               "the services to install their handlers")
    sup.stop_all(timeout=10)
    assert messages == [f"stopping b (pid {b.pid})", f"stopping a (pid {a.pid})", f"stopping node (pid {process.pid})"]
    assert services_alive_when_node_stopped == [False, False]
    assert a.poll() == 0 and b.poll() == 0 and process.poll() is not None
