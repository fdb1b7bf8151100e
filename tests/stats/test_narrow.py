"""The statistics of one slice of an area — one class of request, lead unit, grid cell, channel or nature —
with every figure, rate, 同比 / 环比, the trend, the handling times and the areas below narrowed the same way:
read from the rollups, equal to the plain scan of the facts, and shown on the pages with drill-down links
that keep the narrowing.

The month: March 2026 in 八角亭 (天心区 › 坡子街街道), worked out by hand:
- 城管 (CG): 道路破损 received Mon 2 March 09:00, closed 15:00 the same day (4 working hours: office hours
  are 08:00–12:00 and 14:00–18:00); 违法建设 received Tue 3 March 09:00, closed Thu 5 March 09:00 (7 + 8 + 1 =
  16 working hours).
- 住建 (ZJ): 道路破损 received Wed 4 March 09:00 by the web portal, closed at 17:00 (6 working hours),
  revisited satisfied; and one signed for on Thu 5 March and still open.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import pytest
from django.test import Client

from civicgrid.lib import clock
from civicgrid.stats import figures
from civicgrid.stats.figures import Period
from civicgrid.stats.refresh import do_rebuild
from civicgrid.stats.report import build_report, resolve_slice, sentences
from tests.cases.helpers import Catalog, build_catalog
from tests.stats.scenarios import CG, TIANXIN, ZJ, at, handled, refresh, revisit, signed_for
from tests.world import World

MARCH = Period.month(2026, 3)
TODAY = MARCH.last.replace(year=2026, month=4, day=15)


@pytest.fixture
def march(world: World) -> Catalog:
    catalog = build_catalog()
    with clock.frozen(at(2026, 1, 1)):
        do_rebuild(actor=None)
    handled(world, catalog, at(2026, 3, 2, 9), at(2026, 3, 2, 15), lead=CG)
    handled(world, catalog, at(2026, 3, 3, 9), at(2026, 3, 5, 9), category=catalog.illegal, lead=CG)
    done = handled(world, catalog, at(2026, 3, 4, 9), at(2026, 3, 4, 17), lead=ZJ, channel="web")
    revisit(done, at(2026, 3, 5, 10), "satisfied", "resolved")
    signed_for(world, at(2026, 3, 5, 9), catalog.road, lead=ZJ)
    refresh()
    return catalog


@pytest.mark.parametrize(
    ("dim", "code", "received", "closed", "median_hours"),
    [
        ("unit", ZJ, 2, 1, Fraction(6)),
        ("unit", CG, 2, 2, Fraction(10)),  # 4 and 16 hours: the mean of the two middle values
        ("category", "01", 3, 2, Fraction(5)),  # 城乡建设 and everything under it: 道路破损 ×3 (4 h, 6 h)
        ("category", "010101", 3, 2, Fraction(5)),
        ("category", "02", 1, 1, Fraction(16)),
        ("channel", "web", 1, 1, Fraction(6)),
        ("nature", "complaint", 4, 3, Fraction(6)),  # 4, 6, 16
        ("grid", "430103002001001", 4, 3, Fraction(6)),
    ],
)
def test_a_slice_has_every_figure(
    world: World, march: Catalog, dim: str, code: str, received: int, closed: int, median_hours: Fraction
) -> None:
    narrowed = resolve_slice(dim, code)
    assert narrowed is not None
    node = world.j(TIANXIN)
    report = build_report(node, MARCH, TODAY, narrowed)
    assert report.counts["received"] == received
    assert report.counts["closed"] == closed
    assert report.counts == figures.scan_totals(node, MARCH, narrowed.dim, narrowed.key)
    assert report.durations.median_hours == median_hours
    # The trend: March from the monthly rows, equal to the scan; the months before are empty.
    assert report.series[MARCH.first] == report.counts
    assert all(not any(v.values()) for m, v in report.series.items() if m != MARCH.first)
    # The areas below are narrowed too: everything happened in 坡子街.
    assert [r.counts["received"] for r in report.children] == [received, 0]
    # An odd run of days is the scan, narrowed the same way.
    odd = Period(MARCH.first.replace(day=3), MARCH.last.replace(day=4))
    assert figures.totals(node, odd, TODAY, narrowed.dim, narrowed.key) == figures.scan_totals(
        node, odd, narrowed.dim, narrowed.key
    )


def test_a_class_lists_its_subclasses(world: World, march: Catalog) -> None:
    narrowed = resolve_slice("category", "01")
    report = build_report(world.j(TIANXIN), MARCH, TODAY, narrowed)
    assert [(r.name, r.counts["received"]) for r in report.categories] == [("市政管理", 3)]
    assert report.units == report.channels == report.natures == []


def test_the_sentences_name_the_slice(world: World, march: Catalog) -> None:
    narrowed = resolve_slice("unit", ZJ)
    text = " ".join(sentences(build_report(world.j(TIANXIN), MARCH, TODAY, narrowed)))
    assert text.startswith("天心区 (Lead unit: 天心区住房和城乡建设局) received 2 requests")


def test_unknown_keys_name_nothing(db: None) -> None:
    assert resolve_slice("unit", "no-such-unit") is None
    assert resolve_slice("channel", "pigeon") is None
    assert resolve_slice("colour", "red") is None


def test_the_page_narrowed_to_a_unit(
    world: World, march: Catalog, client_for: Callable[[str], Client]
) -> None:
    client = client_for("tx_leader")
    with clock.frozen(at(2026, 4, 15)):
        html = client.get(f"/stats/?j={TIANXIN}&p=2026-03&dim=unit&key={ZJ}").content.decode()
        assert "仅统计承办单位：天心区住房和城乡建设局。" in html
        assert 'id="stats-map"' not in html  # the map is of the whole area
        received = html.split('id="fig-received"', 1)[1].split("</strong>", 1)[0]
        assert ">2</a>" in received
        assert f"unit={ZJ}" in received  # the drill-down keeps the narrowing
        assert 'id="table-units"' not in html
        children = html.split('id="table-children"', 1)[1].split("</table>", 1)[0]
        assert "dim=unit" in children  # an area below, narrowed the same way
        report = client.get(f"/stats/report/?j={TIANXIN}&p=2026-03&dim=unit&key={ZJ}").content.decode()
        assert "天心区（承办单位：天心区住房和城乡建设局）共受理群众诉求 2 件" in report
        whole = client.get(f"/stats/?j={TIANXIN}&p=2026-03").content.decode()
        units = whole.split('id="table-units"', 1)[1].split("</table>", 1)[0]
        assert f"dim=unit&amp;key={ZJ}" in units  # each row narrows the page to itself
        response = client.get(f"/stats/?j={TIANXIN}&p=2026-03&dim=unit&key=nobody")
        assert response.status_code == 422
        assert "没有可用于筛选的“nobody”。" in response.content.decode()
