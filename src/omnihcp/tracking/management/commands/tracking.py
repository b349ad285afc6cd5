"""``omnihcp tracking``: tracking jobs on demand.

``omnihcp tracking windows`` counts every doctor's activity windows again from the daily
rollups (what the scheduler does once a day, ``tracking.windows``), e.g. after a bulk load of
events, and prints the rows written and the time it took.
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from omnihcp.tracking.windows import windows_rebuild


class Command(BaseCommand):
    help = "Tracking jobs: rebuild the per-doctor activity windows."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        commands.add_parser("windows", help="every doctor's activity windows, ending today")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        written = windows_rebuild(force=True) or 0
        self.stdout.write(
            f"Activity windows rebuilt in {time.perf_counter() - started:.1f}s: {written} rows"
        )
