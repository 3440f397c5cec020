"""schemathesis generates requests from the OpenAPI schema, valid and invalid, for every operation: none may get
a 5xx. Bounded: a fixed number of examples per operation and mode, so the whole run takes well under a minute.

The RPC relay is left out: it forwards to the node, and with no node running its 503 ("the node does not
answer") is the right answer, not a fault.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from kit.read_api import app_settings, fake_deployment, market  # noqa: F401
from schemathesis import GenerationMode

from twin_licensing.api.app import create_app

EXAMPLES = 30  # per operation and generation mode
EXCLUDED = {"/api/v1/dev/rpc"}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_input_gets_a_server_error(market, app_settings, mode):
    app = create_app(app_settings, deployment=fake_deployment(), engine=market.engine)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in EXCLUDED:
            continue
        tested += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def run(case):
            try:
                response = case.call()
            except Exception as exc:  # noqa: BLE001 - the test client re-raises what would be a 500
                failures.append(f"{case.method} {case.formatted_path} {case.query} -> raised {exc!r}"[:300])
                return
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}: "
                                f"{response.text[:200]}")

        try:
            run()
        except Unsatisfiable:
            pass  # nothing to make invalid (an operation without parameters)
    assert tested >= 10
    assert not failures, "\n".join(failures[:10])


EDGE_VALUES = ["0", "-1", "1.5", "abc", str(2**63), str(2**256), "9" * 100, "%00", "0x" + "f" * 64]


def _edge_requests(app, prefix: str | None, exclude_prefix: str | None):
    """GET requests with one path or query parameter at an edge value, the others at a valid default."""
    spec = app.openapi()
    for path, methods in spec["paths"].items():
        if path in EXCLUDED or "get" not in methods:
            continue
        if prefix and not path.startswith(prefix):
            continue
        if exclude_prefix and path.startswith(exclude_prefix):
            continue
        params = methods["get"].get("parameters", [])
        defaults = {p["name"]: ("0x" + "a1" * 20 if "payee" in p["name"] or "address" in p.get("description", "")
                                else "1") for p in params if p["in"] == "path"}
        for param in params:
            for value in EDGE_VALUES:
                url = path
                values = dict(defaults)
                query = ""
                if param["in"] == "path":
                    values[param["name"]] = value
                else:
                    query = f"?{param['name']}={value}"
                for name, v in values.items():
                    url = url.replace("{" + name + "}", v)
                yield url + query


def _server_errors(app, urls) -> list[str]:
    from fastapi.testclient import TestClient

    errors = []
    with TestClient(app, raise_server_exceptions=False) as client:
        for url in urls:
            status = client.get(url).status_code
            if status >= 500:
                errors.append(f"GET {url} -> {status}")
    return errors


def test_read_api_parameters_at_their_edges_never_get_a_server_error(market, app_settings):
    app = create_app(app_settings, deployment=fake_deployment(), engine=market.engine)
    urls = list(_edge_requests(app, None, "/api/v1/uses"))
    assert len(urls) > 100
    errors = _server_errors(app, urls)
    assert not errors, "\n".join(errors[:10])


def test_use_routes_parameters_at_their_edges_never_get_a_server_error(market, app_settings):
    app = create_app(app_settings, deployment=fake_deployment(), engine=market.engine)
    errors = _server_errors(app, list(_edge_requests(app, "/api/v1/uses", None)))
    assert not errors, "\n".join(errors[:10])


# ------------------------------------------------------------------ the intake against the JSON grammar
#
# schemathesis generates from the schema, so it never sends what JSON's grammar allows and the schema does not
# imagine: NaN and Infinity, numbers beyond any column, `true` where a number goes, lone UTF-16 surrogates in a value
# or a key, bytes that are not UTF-8, objects nested anywhere. This battery does, against POST /uses and
# /uses/typed-data through the ASGI app: no answer may be a 5xx, and every 4xx is one sentence a brand can act on.
# A licence held by a key the test has makes some reports valid, so the intake's own checks run too (accepted,
# the same report again, a sequence number taken or skipped ahead, a stranger's signature on an accepted body).

import json as _json  # noqa: E402

from hypothesis import strategies as st  # noqa: E402

BATTERY_EXAMPLES = 400  # per route: ~10 s in all
HOLDER_KEY = "0x" + "5a" * 32
STRANGER_KEY = "0x" + "a5" * 32
BATTERY_LICENCE = 77
REPORT_KEYS = ["license_id", "seq", "use_ref", "category", "territory", "used_at", "signature", "label"]

_surrogates = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff", "a\ud83d", "\ude00b"])
_text = st.one_of(st.text(max_size=12), _surrogates, st.builds(lambda a, s, b: a + s + b, st.text(max_size=4),
                                                                _surrogates, st.text(max_size=4)))
_integers = st.one_of(
    st.integers(-10, 10), st.integers(),
    st.sampled_from([2**31, 2**32, 2**32 - 1, 2**63 - 1, 2**63, 2**64, 2**256, -(2**63), 10**400]),
)
_scalars = st.one_of(st.none(), st.booleans(), _integers,
                     st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e308, -0.0, 1.5]), _text)
_json_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)),
    max_leaves=12,
)


def _hex(n: int) -> str:
    return "0x" + f"{n:064x}"


def _plausible(key: str) -> st.SearchStrategy:
    """A value near what the field takes: in range, at its edges, or just past them."""
    return {
        "license_id": st.sampled_from([BATTERY_LICENCE, 1, 2, 0, -1, 2**63 - 1, 2**63]),
        "seq": st.integers(-1, 4) | st.just(2**32),
        "use_ref": st.sampled_from([_hex(1), _hex(0), _hex(2**256 - 1), "0x12", "0x" + "zz" * 32]),
        "category": st.integers(-1, 9),
        "territory": st.integers(-1, 9),
        "used_at": st.sampled_from([NOW_BATTERY - 60, 0, 1, 2**64 - 1, 2**64]),
        "signature": st.sampled_from(["0x" + "ab" * 65, "0x" + "00" * 65, "0x", "0x" + "ab" * 64]),
        "label": st.text(max_size=5) | st.just(" "),
    }[key]


NOW_BATTERY = 0  # set from the market's clock when the test runs


@st.composite
def _report_shaped(draw) -> object:
    """A dict with the report's keys, each plausible or any JSON value; some left out; maybe extra keys."""
    body = {}
    for key in REPORT_KEYS:
        choice = draw(st.integers(0, 9))
        if choice == 0:
            continue  # left out
        body[key] = draw(_json_values) if choice <= 3 else draw(_plausible(key))
    if draw(st.booleans()):
        body.update(draw(st.dictionaries(_text, _json_values, max_size=2)))
    return body


@st.composite
def _signed(draw) -> object:
    """A report the holder (or a stranger) signed, then maybe one field changed to anything."""
    from twin_licensing.chain.use_reports import UseReport, UseReportDomain, sign_report

    from kit.read_api import fake_deployment as _deployment

    deployment = _deployment()
    domain = UseReportDomain(deployment.chain_id, deployment.license_token)
    report = UseReport(BATTERY_LICENCE, draw(st.integers(0, 3)), _hex(draw(st.integers(1, 5))),
                       draw(st.integers(0, 2)), draw(st.integers(0, 1)), NOW_BATTERY - draw(st.integers(0, 3)))
    key = STRANGER_KEY if draw(st.integers(0, 4)) == 0 else HOLDER_KEY
    body = {**vars(report), "signature": sign_report(key, domain, report)}
    if draw(st.integers(0, 3)) == 0:
        body["label"] = draw(_text)  # rarely the reference's label: its own check, and a surrogate in it
    if draw(st.integers(0, 2)) == 0:
        body[draw(st.sampled_from(REPORT_KEYS))] = draw(_json_values)
    return body


def _encode(value: object, ascii_only: bool, allow_nan_text: bool) -> bytes:
    """JSON text of `value` as a client might send it: NaN/Infinity literals, lone surrogates either escaped
    ("\\ud800") or written raw (bytes that are not UTF-8)."""
    text = _json.dumps(value, allow_nan=allow_nan_text, ensure_ascii=ascii_only)
    return text.encode("utf-8", "surrogatepass")


# Signed reports twice as often as the rest: they are the ones that reach the intake's rules.
_bodies = st.one_of(_signed(), _signed(), _report_shaped(), _json_values)
_content_types = st.sampled_from(["application/json"] * 4 + ["application/json; charset=utf-8", "text/plain", None])


def _battery_licence(market) -> None:
    """Licence 77 of twin 1, held by HOLDER_KEY's address: e-commerce, social and print in Europe and the UK."""
    from eth_account import Account
    from sqlmodel import Session

    from kit.read_api import CHAIN_ID, DAY, NOW, USDC
    from twin_licensing.db.license_state import License

    holder = Account.from_key(HOLDER_KEY).address
    with Session(market.engine) as session:
        session.add(License(chain_id=CHAIN_ID, license_id=BATTERY_LICENCE, offer_id=1, twin_id=1, buyer=holder,
                            holder=holder, per_use_fee=USDC, categories=0b111, territories=0b11,
                            started_at=NOW - DAY, duration=60 * DAY, expiry=NOW + 59 * DAY, escrow=1_000 * USDC,
                            escrow_deposited=1_000 * USDC))
        session.commit()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", ["/api/v1/uses", "/api/v1/uses/typed-data"])
def test_the_intake_answers_any_json_with_a_sentence_never_a_5xx(market, app_settings, path):
    import time as _time

    from fastapi.testclient import TestClient

    from kit.read_api import NOW

    global NOW_BATTERY
    NOW_BATTERY = NOW
    _battery_licence(market)
    app = create_app(app_settings, deployment=fake_deployment(), engine=market.engine)
    statuses: dict[int, int] = {}
    problems: list[str] = []
    started = _time.monotonic()
    with TestClient(app, raise_server_exceptions=False) as client:

        @given(body=_bodies, ascii_only=st.booleans(), nan_text=st.booleans(), content_type=_content_types,
               unsigned=st.booleans())
        @settings(max_examples=BATTERY_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)
        def run(body, ascii_only, nan_text, content_type, unsigned):
            if unsigned and isinstance(body, dict) and path.endswith("/typed-data"):
                body = {k: v for k, v in body.items() if k not in ("signature", "label")}  # what typed-data takes
            try:
                raw = _encode(body, ascii_only, nan_text)
            except ValueError:  # NaN with nan_text off: json refuses to write it; send its literal instead
                raw = _encode(body, ascii_only, True)
            headers = {"content-type": content_type} if content_type else {}
            response = client.post(path, content=raw, headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            where = f"{path} {raw[:160]!r} -> {response.status_code} {response.text[:160]}"
            if response.status_code >= 500:
                problems.append(where)
                return
            try:
                answer = response.json()
            except ValueError:
                problems.append(f"not JSON: {where}")
                return
            if 400 <= response.status_code < 500:
                detail = answer.get("detail") if isinstance(answer, dict) else None
                if not (isinstance(detail, str) and detail[:1].isupper() and detail.endswith(".")):
                    problems.append(f"no sentence: {where}")
                elif answer.get("code") == "sequence_mismatch" and not isinstance(answer.get("expected_seq"), int):
                    problems.append(f"409 without expected_seq: {where}")

        run()
    elapsed = _time.monotonic() - started
    print(f"{path}: {sum(statuses.values())} requests in {elapsed:.1f} s, statuses {dict(sorted(statuses.items()))}")
    assert not problems, "\n".join(problems[:10])
    assert sum(statuses.values()) >= BATTERY_EXAMPLES
    # The battery reached past the shape checks: some reports were read as reports (by the intake, or turned into
    # typed data), and some refusals came from the intake's own rules.
    accepted = statuses.get(201, 0) + statuses.get(200, 0)
    assert accepted > 0 and statuses.get(422, 0) > 0, statuses
    if path == "/api/v1/uses":
        assert statuses.get(403, 0) > 0 and statuses.get(409, 0) > 0, statuses
