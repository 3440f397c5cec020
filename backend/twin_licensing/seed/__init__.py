"""Demo data for the local chain: guild floors, 30 twins with payees and offers, portraits, funded brands.

`seed.data` is plain data (cheap to import); `seed`, `SeedResult` and `SeededTwin` load the chain layer on first use.
"""

from typing import Any

__all__ = ["SeedResult", "SeededTwin", "seed"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import seeder

        return getattr(seeder, name)
    raise AttributeError(name)
