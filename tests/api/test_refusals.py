"""Every refusal is one sentence a person can act on, and no input gets a 500: validation errors name the field in
words and say what to enter; NaN, Infinity and unpaired surrogates in a JSON body are refused with 422 (they made
the error answer itself fail); `true` is not a number; unknown addresses, wrong methods and crashes say so in words.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from kit.read_api import app_client, app_settings, fake_deployment, market  # noqa: F401

from twin_licensing.api.app import create_app

USE = {
    "license_id": 1,
    "seq": 0,
    "use_ref": "0x" + "01" * 32,
    "category": 0,
    "territory": 0,
    "used_at": 1_800_000_000,
}
SIGNATURE = "0x" + "ab" * 65


def sentence(response) -> str:
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail[0].isupper() and detail.endswith("."), detail
    return detail


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/api/v1/twins?min_fee=-5", "The lowest fee must be 0 or more: enter a larger number."),
        ("/api/v1/twins?min_fee=5&max_fee=4", "The lowest fee is above the highest fee: lower the one or raise the other."),
        ("/api/v1/twins/abc", "The twin id must be a whole number, like 12: enter it without decimals, quotes or words."),
        ("/api/v1/twins?limit=101", "The page size must be 100 or less: enter a smaller number."),
        ("/api/v1/twins?q=" + "x" * 101, "The search text is too long: keep it to 100 characters."),
        ("/api/v1/twins?payee=0x12", "The payee's address is not an address: enter 0x followed by 40 hexadecimal digits."),
        ("/api/v1/licenses", "Say whose licences to list: give a holder's address or a twin id."),
        ("/api/v1/licenses/1/uses?status=paid", "The status must be one of 'settled' or 'unsettled'."),
    ],
)
def test_validation_errors_are_sentences_naming_the_field(app_client, path, expected):
    response = app_client.get(path)
    assert response.status_code == 422 and sentence(response) == expected
    assert response.json()["code"] == "invalid_request"


def test_the_field_is_also_given_for_programs(app_client):
    body = app_client.get("/api/v1/twins", params={"category": 9}).json()
    assert body["field"] == "category" and body["errors"] == [{"loc": ["query", "category"], "type": "less_than_equal"}]
    assert "input" not in str(body)  # the input is never echoed back


def test_missing_things_are_named(app_client):
    assert sentence(app_client.get("/api/v1/twins/999")) == (
        "There is no twin 999: check the number, or wait a moment if it was just registered."
    )
    assert app_client.get("/api/v1/licenses/999").json()["detail"].startswith("There is no licence 999 you can see:")
    nowhere = app_client.get("/api/v1/nothing-here")
    assert nowhere.status_code == 404 and "nothing at this address" in sentence(nowhere)
    wrong_method = app_client.delete("/api/v1/twins")
    assert wrong_method.status_code == 405 and sentence(wrong_method) == "This address does not take DELETE requests."


BAD_JSON = [
    ('{"license_id": NaN}', "NaN"),
    ('{"license_id": Infinity}', "Infinity"),
    ('{"license_id": -Infinity}', "-Infinity"),
    ('{"license_id": 1e999}', "too large"),
    ('{"use_ref": "\\ud800"}', "broken character"),
    ('{"\\udfff": 1}', "broken character"),
    ('[{"method": "eth_chainId", "params": ["a\\ud800b"]}]', "broken character"),
]


@pytest.mark.parametrize("path", ["/api/v1/uses", "/api/v1/uses/typed-data", "/api/v1/dev/rpc"])
@pytest.mark.parametrize("raw, words", BAD_JSON, ids=[w for _, w in BAD_JSON])
def test_json_no_part_of_the_system_can_hold_is_422(app_client, path, raw, words):
    response = app_client.post(path, content=raw.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert words in sentence(response) and response.json()["code"] == "invalid_json"


def test_a_surrogate_pair_is_a_character_not_a_broken_one(app_client):
    # "\ud83d\ude00" is one emoji written as JSON escapes: it passes the check and reaches the relay's own checks.
    raw = b'{"method": "eth_chainId", "params": ["\\ud83d\\ude00"], "id": 1}'
    response = app_client.post("/api/v1/dev/rpc", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 503 and "node" in sentence(response)  # the relay tried: there is no node


@pytest.mark.parametrize("field", ["license_id", "seq", "category", "territory", "used_at"])
@pytest.mark.parametrize("path, extra", [("/api/v1/uses/typed-data", {}), ("/api/v1/uses", {"signature": SIGNATURE})])
def test_true_is_not_a_number(app_client, field, path, extra):
    assert app_client.post("/api/v1/uses/typed-data", json=USE).status_code == 200  # the same body with numbers
    for boolean in (True, False):
        response = app_client.post(path, json={**USE, **extra, field: boolean})
        assert response.status_code == 422, response.text
        assert "signature" not in sentence(response)  # refused for the field, before the signature is looked at


@pytest.mark.parametrize("path", ["/api/v1/uses/typed-data", "/api/v1/dev/rpc"])
def test_a_body_that_is_not_json_is_a_sentence(app_client, path):
    response = app_client.post(path, content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422 and "JSON" in sentence(response)


def test_an_unexpected_failure_is_a_500_with_a_sentence_and_no_traceback(app_client):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    app_client.app.state.context.version = broken
    response = app_client.get("/api/v1/twins")
    assert response.status_code == 500
    assert "secret" not in response.text and "Traceback" not in response.text
    assert sentence(response).startswith("Something went wrong on our side")


def test_missing_compiled_contracts_are_503_for_the_operators(market, app_settings, tmp_path):
    settings = app_settings.model_copy(update={"artifacts_dir": tmp_path / "no-artifacts"})
    with TestClient(create_app(settings, deployment=fake_deployment(), engine=market.engine)) as client:
        response = client.get("/api/v1/deployment/abi")
    assert response.status_code == 503 and "operators" in sentence(response)
