"""What the assessment pages show to the people who use them, and how bad input is answered (the month of
tests/assessment/scenario.py, read in April)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.test import Client
from openpyxl import load_workbook

from civicgrid.assessment.models import AssessmentResult, AssessmentScheme
from civicgrid.lib import clock
from tests.assessment.scenario import build_month, unit_scheme
from tests.stats.scenarios import CG, ZJ, at
from tests.world import World


@pytest.fixture
def month(world: World) -> AssessmentScheme:
    build_month(world)
    return unit_scheme(world)


def test_the_leader_reads_publishes_and_downloads(
    client_for: Callable[[str], Client], month: AssessmentScheme
) -> None:
    client = client_for("tx_leader")
    with clock.frozen(at(2026, 4, 15, 9)):
        page = client.get("/assessment/tx-units/")  # the last month that ended: March
        html = page.content.decode()
        assert page.status_code == 200
        assert "2026-03-01 – 2026-03-31" in html
        assert "实时数据" in html
        assert "尚未发布" in html
        red = html.split('id="red-list"', 1)[1].split("</section>", 1)[0]
        black = html.split('id="black-list"', 1)[1].split("</section>", 1)[0]
        assert "天心区城市管理和综合执法局" in red
        assert "83.33" in red
        assert "天心区住房和城乡建设局" in black
        assert "75.00" in black
        row = html.split(f'id="row-{ZJ}"', 1)[1].split("</tr>", 1)[0]
        assert "50.0%" in row
        assert "1/2" in row
        assert "黑榜" in row
        # The unit's due count opens its cases.
        assert "unit=430103-zj" in row
        assert "counted=due" in row
        published = client.post("/assessment/tx-units/publish/", {"p": "2026-03", "note": "三月"})
        assert published.status_code == 303
        assert published["Location"] == "/assessment/tx-units/?p=2026-03&v=1"
        html = client.get(published["Location"]).content.decode()
        assert "已发布（第 1 版）" in html
        assert "三月" in html
        book = load_workbook(
            io.BytesIO(client.get("/assessment/tx-units/ranking.xlsx?p=2026-03&v=1").content)
        )
        rows = list(book.worksheets[0].iter_rows(values_only=True))
        header = next(r for r in rows if r and r[0] == "排名")
        first = rows[rows.index(header) + 1]
        assert first[:5] == (1, "天心区城市管理和综合执法局", CG, None, 3)
        assert first[-2:] == (83.33, "红榜")
        assert "结案率" in header
        assert book.worksheets[1].title == "规则"


def test_bad_input_is_answered_at_the_field(
    client_for: Callable[[str], Client], month: AssessmentScheme
) -> None:
    client = client_for("tx_leader")
    with clock.frozen(at(2026, 4, 15, 9)):
        response = client.get("/assessment/tx-units/?p=2026-Q1")
        assert response.status_code == 422
        assert "本方案为月度考核，请填写形如 2026-10 的期间。" in response.content.decode()
        response = client.get("/assessment/tx-units/?p=2026-03&v=7")
        assert response.status_code == 422
        assert "本期没有第 7 版" in response.content.decode()
        response = client.post("/assessment/tx-units/publish/", {"p": "2026-04", "note": "四月"})
        assert response.status_code == 422
        assert "只有已经结束的期间才能发布" in response.content.decode()
        assert "四月" in response.content.decode()  # the note typed is kept
    assert not AssessmentResult.objects.exists()


def test_the_dispatcher_reads_but_may_not_publish(
    client_for: Callable[[str], Client], month: AssessmentScheme
) -> None:
    client = client_for("tx_dispatcher")
    with clock.frozen(at(2026, 4, 15, 9)):
        html = client.get("/assessment/tx-units/").content.decode()
        assert 'id="publish-form"' not in html
        assert client.post("/assessment/tx-units/publish/", {"p": "2026-03"}).status_code == 403
