from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction

from tests.services.helpers import Window, build_window
from tests.world import World


@pytest.fixture
def window(world: World) -> Window:
    """The catalogue, three centres and five visits on a fresh test world (one test)."""
    return build_window(world)


@pytest.fixture(scope="module")
def shared_window(shared_world: World, django_db_blocker: pytest.FixtureRequest) -> Iterator[Window]:
    """The same, built once per module inside shared_world's outer transaction (read-only tests; writes
    made by a test are rolled back with that test)."""
    with django_db_blocker.unblock(), transaction.atomic():  # type: ignore[attr-defined]
        yield build_window(shared_world)
        transaction.set_rollback(True)
