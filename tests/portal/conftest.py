from __future__ import annotations

import pytest

from civicgrid.portal.models import PortalPolicy
from civicgrid.portal.queries import current_policy
from tests.cases.helpers import Catalog, build_catalog
from tests.world import World


@pytest.fixture
def catalog(world: World) -> Catalog:
    return build_catalog()


@pytest.fixture
def policy(world: World) -> PortalPolicy:
    """The portal serves 天心区 (the streets and communities of 雨花区 are not offered)."""
    policy = current_policy()
    policy.service_area = world.j("430103")
    policy.save()
    return policy
