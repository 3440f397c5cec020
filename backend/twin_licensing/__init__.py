"""Twin licensing: licence tokens for the AI digital twins of fashion models, with per-use royalties on chain."""

__version__ = "0.1.0"
