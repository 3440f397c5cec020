"""`twinctl`: commands work against a node; bad input is one line and a non-zero exit (`up`: tests/scripts/test_up.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from twin_licensing.chain.node import LocalNode
from twin_licensing.cli import build_parser, main


def test_all_commands_are_registered() -> None:
    parser = build_parser()
    subcommands = parser._subparsers._group_actions[0].choices  # argparse keeps them here
    assert {"node", "deploy", "seed", "up"} <= set(subcommands)


def test_deploy_and_seed_through_the_console(monkeypatch, tmp_path: Path, chain, local_node: LocalNode, capsys) -> None:
    monkeypatch.setenv("TWIN_DEPLOYMENTS_DIR", str(tmp_path / "deployments"))
    monkeypatch.setenv("TWIN_MEDIA_DIR", str(tmp_path / "media"))
    assert main(["deploy", "--rpc-url", local_node.url]) == 0
    out = capsys.readouterr().out
    assert "deployed to chain 31337" in out and "LicenseToken" in out
    deployment = json.loads((tmp_path / "deployments" / "31337.json").read_text())
    assert set(deployment["contracts"]) >= {"PaymentToken", "TwinRegistry", "LicenseToken", "OfferBook"}
    assert f"OfferBook     {deployment['contracts']['OfferBook']}" in out
    assert main(["seed", "--rpc-url", local_node.url]) == 0
    assert "seeded 30 twins" in capsys.readouterr().out
    assert (tmp_path / "media" / "twins" / "30.svg").is_file()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["deploy", "--rpc-url", "http://127.0.0.1:9"], "cannot reach the JSON-RPC endpoint"),
        (["deploy", "--rpc-url", "ftp://example"], "RPC URL must be"),
        (["seed", "--rpc-url", "http://127.0.0.1:9"], "cannot reach"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(argv, message, capsys) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_seed_without_deployment_is_one_line(monkeypatch, tmp_path: Path, local_node: LocalNode, capsys) -> None:
    monkeypatch.setenv("TWIN_DEPLOYMENTS_DIR", str(tmp_path))
    assert main(["seed", "--rpc-url", local_node.url]) == 1
    err = capsys.readouterr().err
    assert "no deployment for chain 31337" in err and err.count("\n") == 1


def test_deploy_with_a_bad_key_is_one_line(monkeypatch, local_node: LocalNode, capsys) -> None:
    monkeypatch.setenv("TWIN_DEPLOYER_KEY", "0xnot-a-key")
    assert main(["deploy", "--rpc-url", local_node.url]) == 1
    err = capsys.readouterr().err
    assert "TWIN_DEPLOYER_KEY is not a valid" in err and "not-a-key" not in err
