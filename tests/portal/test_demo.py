"""The portal's demo step: a few residents' web requests in every portal state, idempotent."""

from __future__ import annotations

from pathlib import Path

from civicgrid.cases import limits
from civicgrid.cases.models import Case, Category
from civicgrid.demo.context import DemoContext
from civicgrid.jurisdictions.models import UnitType
from civicgrid.lib import clock
from civicgrid.portal import demo
from civicgrid.portal.models import ReopenRequest, Support, TrackingLink
from civicgrid.portal.queries import current_policy, similar_open_cases
from tests.world import World


def _demo_catalogue() -> None:
    """The demo taxonomy's names the portal demo uses (城乡建设 is the 城管's in the test world)."""
    top = Category.objects.create(
        code="01", name="城乡建设", path="01/", depth=1, unit_type=UnitType.objects.get(code="cg")
    )
    mid = Category.objects.create(
        code="0101", name="城市建设和市政管理", parent=top, path="01/0101/", depth=2
    )
    for n, name in enumerate(["基础设施", "城市公共设施", "环境卫生", "城管执法"], start=1):
        code = f"0101{n:02d}"
        Category.objects.create(code=code, name=name, parent=mid, path=f"01/0101/{code}/", depth=3)
    limits.invalidate()


def test_the_demo_step_is_idempotent_and_covers_every_portal_state(world: World) -> None:
    _demo_catalogue()
    said: list[str] = []
    ctx = DemoContext(data_dir=Path("."), say=said.append)
    demo.load(ctx)
    demo.load(ctx)
    assert current_policy().service_area == world.j("430103")
    web = Case.objects.filter(channel="web")
    assert web.count() == len(demo.STORIES)
    assert TrackingLink.objects.count() == len(demo.STORIES)
    assert sorted(web.values_list("status", flat=True)) == ["handling", "received", "resolved", "revisited"]
    assert ReopenRequest.objects.filter(status="pending").count() == 1
    assert Support.objects.count() == 2
    # The links are printed on every run (they are derived from the fixed form keys).
    links = [line for line in said if "/track/" in line]
    assert len(links) == 2 * len(demo.STORIES)
    assert links[: len(demo.STORIES)] == links[len(demo.STORIES) :]
    # The fresh report has neighbours for "similar requests nearby".
    pothole = web.get(title__startswith="小区门口")
    assert pothole.lon is not None
    assert pothole.lat is not None
    nearby = similar_open_cases(pothole.lon, pothole.lat, None, at=clock.now())
    assert {n.number for n in nearby} >= {pothole.number}
    assert len(nearby) >= 2
