from __future__ import annotations

import pytest

from tests.cases.helpers import Catalog, build_catalog
from tests.world import World


@pytest.fixture
def catalog(world: World) -> Catalog:
    return build_catalog()
