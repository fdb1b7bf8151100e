"""manage.py issue_api_token <username> --name APP [--days N]

Issues an API token for a staff account and prints the secret once (only its digest is stored). The app
sends it as ``Authorization: Bearer cg_…``; it acts with that account's grants, nothing more.
"""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from civicgrid.accounts.models import User
from civicgrid.accounts.tokens import do_issue_api_token
from civicgrid.lib import clock


class Command(BaseCommand):
    help = "Issue an API token for a staff account and print its secret (shown only this once)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="what the token is for, e.g. the app's name")
        parser.add_argument(
            "--days", type=int, default=None, help="expire after this many days (default: never)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no staff account {options['username']!r}")
        days: int | None = options["days"]
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1")
        expires_at = clock.now() + timedelta(days=days) if days is not None else None
        try:
            token, secret = do_issue_api_token(user, name=options["name"], expires_at=expires_at, actor=None)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stderr.write(
            f"Token {token.prefix}… for {user.username} ({token.name})"
            + (f", expires {expires_at:%Y-%m-%d %H:%M}" if expires_at else "")
            + ". Store the secret now: it cannot be shown again."
        )
        # The secret alone on stdout, so `SECRET=$(manage.py issue_api_token …)` works.
        self.stdout.write(secret)
