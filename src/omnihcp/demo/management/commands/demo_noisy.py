"""``omnihcp demo_noisy``: write noisy multi-source CSV files with ground truth
(see ``omnihcp.demo.noisy``). Needs no database."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from omnihcp.demo.noisy import DEFAULT_HCOS, DEFAULT_SEED, write_csv


class Command(BaseCommand):
    help = (
        "Write hcos.csv (the master), hospital_names.csv (distributor-style names) and "
        "hcp_records.csv (HCP source records), each row with its true identity."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--hcp-records", type=int, default=100_000, help="HCP source records")
        parser.add_argument("--hospital-names", type=int, default=20_000)
        parser.add_argument("--hcos", type=int, default=DEFAULT_HCOS, help="HCOs in the master")
        parser.add_argument("--out", type=Path, required=True, help="directory for the CSV files")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)

    def handle(self, *args: Any, **options: Any) -> None:
        for option in ("hcp_records", "hospital_names", "hcos"):
            if options[option] < 1:
                raise CommandError(f"--{option.replace('_', '-')} must be at least 1.")
        started = time.perf_counter()
        counts = write_csv(
            options["out"],
            hcp_count=options["hcp_records"],
            hospital_count=options["hospital_names"],
            hco_count=options["hcos"],
            seed=options["seed"],
        )
        self.stdout.write(
            f"Wrote {counts['hcos']:,} HCOs, {counts['hospital_names']:,} hospital names and "
            f"{counts['hcp_records']:,} HCP records to {options['out']} in "
            f"{time.perf_counter() - started:.1f}s."
        )
