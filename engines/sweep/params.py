"""The parameters of the sweep engine: where and how the points of a sweep run."""

from __future__ import annotations

from dataclasses import dataclass

from engines.base import Params, param

__all__ = ["SweepParams"]


@dataclass(frozen=True)
class SweepParams(Params):
    """Where and how the points of a sweep run."""

    workers: int = param(
        2, min=0, max=1024, doc="local worker processes (0: in this process, one point after the other)"
    )
    scheduler: str = param(
        "", doc="address of a running Dask scheduler (tcp://HOST:8786); empty: a local cluster"
    )
    points_per_task: int = param(
        1, min=1, max=100_000, doc="points per Dask task (more for points of a few ms)"
    )
    retry_failed: bool = param(True, doc="run again the points that failed before")

    def validate(self) -> None:
        s = self.scheduler.strip()
        if s and "://" not in s:
            raise ValueError(f"SweepParams.scheduler = {s!r}: expected an address like tcp://HOST:8786")
