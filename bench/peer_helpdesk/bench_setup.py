"""Create what the bench needs in the migrated peer database: a queue, a staff user and their DRF token.

Prints one JSON line: {"queue": id, "token": key, "versions": "..."}. Models are looked up through the app
registry, so this module type-checks without django-helpdesk installed (it lives only in the peer's venv).
"""

from __future__ import annotations

import importlib.metadata
import json

import django


def main() -> None:
    django.setup()
    from django.apps import apps
    from django.contrib.auth import get_user_model

    queue_model = apps.get_model("helpdesk", "Queue")
    token_model = apps.get_model("authtoken", "Token")
    queue, _ = queue_model.objects.get_or_create(
        slug="hotline", defaults={"title": "Hotline", "allow_public_submission": False}
    )
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(
        username="bench", defaults={"is_staff": True, "email": "bench@example.org"}
    )
    token, _ = token_model.objects.get_or_create(user=user)
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("django-helpdesk", "djangorestframework", "Django")
    )
    print(json.dumps({"queue": queue.pk, "token": token.key, "versions": versions}))


if __name__ == "__main__":
    main()
