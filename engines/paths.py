"""Where the studio finds the shared data and anchor programs.

The data folder ``shared/`` lies beside the repository (``../shared`` from the
repository root) in development and CI; ``NEURAL_STUDIO_SHARED`` overrides it.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """The shared folder (data/ and bench/), which may be absent on a user's machine."""
    env = os.environ.get("NEURAL_STUDIO_SHARED")
    if env:
        return Path(env)
    return REPO_ROOT.parent / "shared"


def shared_data(*parts: str) -> Path:
    """A path under ``shared/data`` (e.g. ``shared_data("routing", "cvrplib")``)."""
    return shared_dir().joinpath("data", *parts)


def shared_bench(*parts: str) -> Path:
    return shared_dir().joinpath("bench", *parts)
