"""``omnihcp token issue USERNAME NAME``: an API bearer token for an integration.

The raw token is printed once; only its SHA-256 is stored (``org.models.ApiToken``).
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from omnihcp.org.models import User
from omnihcp.org.services import api_token_issue


class Command(BaseCommand):
    help = "Issue an API token for a user (printed once)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue", help="issue a new token")
        issue.add_argument("username")
        issue.add_argument("name", help="what the token is for, e.g. 'crm-sync'")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {options['username']!r}.")
        _, raw = api_token_issue(actor=None, user=user, name=options["name"])
        self.stdout.write(raw)
