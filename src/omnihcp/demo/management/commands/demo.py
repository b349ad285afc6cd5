"""``omnihcp demo``: generate the demo company (see ``omnihcp.demo.generator``)."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from omnihcp.demo.cast import CAST, DEMO_PASSWORD
from omnihcp.demo.engagement import demo_engagement
from omnihcp.demo.generator import DEFAULT_HCPS, DEFAULT_SEED, demo_generate
from omnihcp.org.models import User


class Command(BaseCommand):
    help = "Generate the deterministic demo company and its users (one per role)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--hcps", type=int, help=f"number of HCPs (default {DEFAULT_HCPS})")
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="multiply the default size, e.g. 50 for a million HCPs",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--reset", action="store_true", help="empty the database first")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the database already has data"
        )
        parser.add_argument(
            "--no-engagement",
            action="store_true",
            help="skip the month of content, shares, reads, answers and campaigns",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        hcps = options["hcps"] or int(DEFAULT_HCPS * options["scale"])
        if hcps < 100:
            raise CommandError("--hcps must be at least 100.")
        if options["reset"]:
            call_command("flush", interactive=False, verbosity=0)
        elif User.objects.exists():
            if options["if_empty"]:
                self.stdout.write("The demo company is already there.")
                self.print_logins()
                return
            raise CommandError("The database already has data; add --reset to rebuild it.")
        started = time.perf_counter()
        summary = demo_generate(hcps=hcps, seed=options["seed"])
        engaged = None
        if not options["no_engagement"]:
            engaged = demo_engagement(seed=options["seed"])
        if connection.vendor == "postgresql":
            # Statistics for the freshly loaded tables, as autovacuum would gather a minute later:
            # without them the planner guesses and may scan a million rows for one search.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            f"Demo company ready in {time.perf_counter() - started:.1f}s: {summary.hcps:,} HCPs, "
            f"{summary.hcos:,} HCOs in {summary.cities} cities, {summary.reps} reps in "
            f"{summary.districts} districts."
            + (
                f" Engagement: {engaged.content} content items, {engaged.deliveries:,} shares, "
                f"{engaged.responses:,} quiz and survey answers."
                if engaged
                else ""
            )
        )
        self.print_logins()

    def print_logins(self) -> None:
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for member in CAST:
            self.stdout.write(
                f"  {member.username:<14} {member.role.label!s:<20} {member.description}"
            )
