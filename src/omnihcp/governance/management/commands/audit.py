"""``omnihcp audit verify``: prove the audit chain is unbroken (exit 1 when it is not)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from omnihcp.governance.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Audit log tools. 'verify' recomputes the hash chain."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify()
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(problem)
            raise CommandError(f"Audit chain BROKEN ({report.events} events checked).")
        self.stdout.write(f"Audit chain OK: {report.events} events, unbroken.")
