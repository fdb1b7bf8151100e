from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.accounts.demo import DEMO_PERSONAS
from civicgrid.accounts.models import User
from civicgrid.demo.context import DEMO_PASSWORD, DemoContext
from civicgrid.open311.actions import key_digest
from civicgrid.open311.demo import CITY, demo_key_secret
from civicgrid.open311.models import ApiKey


class Command(BaseCommand):
    help = "Print one demo login per role."

    def handle(self, *args: Any, **options: Any) -> None:
        present = set(
            User.objects.filter(username__in=[p.username for p in DEMO_PERSONAS]).values_list(
                "username", flat=True
            )
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for persona in DEMO_PERSONAS:
            if persona.username in present:
                self.stdout.write(f"  {persona.username:<14} {persona.full_name:<6} {persona.describe()}")
        secret = demo_key_secret(DemoContext(data_dir=Path("."), say=print).seed)
        if ApiKey.objects.filter(digest=key_digest(secret), revoked_at__isnull=True).exists():
            self.stdout.write(f"Open311 (/open311/v2/, jurisdiction_id {CITY}) demo API key: {secret}")
