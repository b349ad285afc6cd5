"""Every periodic job, listed once with the reason it runs (STYLE.md rule 9).

The foundation has none yet; later apps add ``Schedule`` rows here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    task_path: str
    every_seconds: int
    reason: str


SCHEDULE: tuple[Schedule, ...] = ()
