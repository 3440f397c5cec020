"""Settings from the environment (prefix `TWIN_`), built on demand by `get_settings()`.

No settings object exists at import time: tests and commands build their own, with overrides, and nothing reads
`os.environ` behind their back.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_CHAIN_ID = 31337  # hardhat.config.js; the only chain on which development keys are accepted


def find_project_root() -> Path:
    """The directory holding hardhat.config.js: above this package in a checkout, else the working directory."""
    for candidate in (Path(__file__).resolve(), Path.cwd().resolve()):
        for directory in (candidate, *candidate.parents):
            if (directory / "hardhat.config.js").is_file():
                return directory
    return Path.cwd().resolve()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TWIN_", env_file=None, extra="ignore")

    project_root: Path = Field(default_factory=find_project_root)

    # Chain access.
    rpc_url: str = "http://127.0.0.1:8545"
    rpc_timeout: float = 30.0
    # The node's WebSocket, for new-heads subscriptions; None: the RPC URL with the ws scheme (Hardhat, Anvil, geth
    # with --ws on the same port). Hosted providers usually offer it at another address: set it, or heads are polled.
    ws_url: str | None = None
    # Seconds between head polls while no subscription is up (the fallback; each poll is a request).
    head_poll_interval: float = 1.0
    deployments_dir: Path | None = None  # default <root>/deployments
    artifacts_dir: Path | None = None  # default <root>/artifacts

    # Keys: a 0x-hex private key in the environment, or a file holding one. SecretStr keeps them out of reprs.
    deployer_key: SecretStr | None = None
    deployer_key_file: Path | None = None
    recorder_key: SecretStr | None = None
    recorder_key_file: Path | None = None
    guild_key: SecretStr | None = None
    guild_key_file: Path | None = None

    # Role holders when they are not the deployer (e.g. a multisig admin on a real network).
    admin_address: str | None = None
    guild_address: str | None = None
    recorder_address: str | None = None
    # An existing stablecoin to use instead of deploying the test token (required off the local chain).
    payment_token_address: str | None = None

    # Local files: the database, generated media (portraits, twin metadata) and logs.
    var_dir: Path | None = None  # default <root>/var
    media_dir: Path | None = None  # default <var>/media
    log_dir: Path | None = None  # default <var>/log
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "TWIN_DATABASE_URL", "database_url")
    )

    # Sign-in (Sign-In with Ethereum): the host name (and port) people reach the web client at, which every signed
    # message must name. None: the Host the request came to, right when the API is reached directly (`twinctl
    # serve`, `up`); behind a proxy that passes any Host through, set it, or a message signed for another site
    # could be replayed here with that site's name as Host.
    public_host: str | None = None

    # Local node (`twinctl node` / `twinctl up`): 0 picks a free port.
    node_port: int = 0
    node_startup_timeout: float = 60.0

    # Indexer (`twinctl index`); None keeps the defaults of twin_licensing.indexer.config.IndexerConfig.
    indexer_poll_interval: float | None = None  # head polls without a subscription (TWIN_HEAD_POLL_INTERVAL)
    indexer_confirmations: int | None = None  # blocks below the head before rows are final (0)
    indexer_initial_span: int | None = None  # blocks in the first eth_getLogs request (10)
    indexer_max_span: int | None = None  # most blocks per eth_getLogs request (100 000)
    indexer_target_logs: int | None = None  # logs per request the range adapts to (5 000)
    indexer_subscribe: bool | None = None  # wake on newHeads over WebSocket when offered (true)
    indexer_fetch_process: bool | None = None  # far behind, fetch and decode in a forked process (see IndexerConfig)

    # Use assets (images attached to use reports) and their content credentials (C2PA).
    asset_dir: Path | None = None  # default <var>/assets: the local content-addressed store
    asset_s3_bucket: str | None = None  # set: assets go to this S3-compatible bucket instead
    asset_s3_prefix: str = "assets/"
    asset_s3_endpoint_url: str | None = None  # another S3-compatible service (MinIO, ...); None: AWS
    asset_s3_region: str | None = None
    # The operator's C2PA signing certificate (PEM: the signing certificate, then its intermediates), its EC P-256
    # private key (PEM), and the CA certificate(s) verification trusts. None on the local chain: a local CA under
    # <var>/c2pa, made once by `twinctl up` (or the API) and reused.
    c2pa_cert_file: Path | None = None
    c2pa_key_file: Path | None = None
    c2pa_trust_anchors_file: Path | None = None
    # Requests per minute and client address on the public image check and the unlicensed-use reports.
    verify_rate_per_minute: int = 120
    report_rate_per_minute: int = 10

    @model_validator(mode="after")
    def _fill_paths(self) -> "Settings":
        root = self.project_root
        self.deployments_dir = self.deployments_dir or root / "deployments"
        self.artifacts_dir = self.artifacts_dir or root / "artifacts"
        self.var_dir = self.var_dir or root / "var"
        self.media_dir = self.media_dir or self.var_dir / "media"
        self.log_dir = self.log_dir or self.var_dir / "log"
        self.asset_dir = self.asset_dir or self.var_dir / "assets"
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'twin_licensing.db'}"
        return self


def get_settings(**overrides: object) -> Settings:
    """Reads the environment now; keyword arguments override it (tests, command-line flags)."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
