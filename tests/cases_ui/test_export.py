"""The case list's export (/cases/export.csv, /cases/export.xlsx): exactly the rows of the list for the same
query — the queue, the filters, a statistics drill-down's ``counted=`` — in the list's scope, with Chinese
headers, the numbers residents wrote masked, and a refusal, not a truncated file, above the cap.

Most tests run on tests/overview/scenario.py's hand-built month (cases A … Y2, "now" 2026-03-16 10:00)."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.http import QueryDict
from django.test import Client
from openpyxl import load_workbook
from pytest_django.fixtures import Settings

from civicgrid.accounts import permissions
from civicgrid.cases.models import Case, CaseAssignment
from civicgrid.cases.views.queues import listing
from civicgrid.lib.clock import frozen
from civicgrid.stats.refresh import do_refresh
from tests.cases.helpers import new_case
from tests.overview.scenario import NOW, Scenario, build
from tests.overview.test_links import case_list_links
from tests.world import World

Clients = Callable[[str], Client]

HEADERS = [
    "工单编号",
    "受理时间",
    "来源渠道",
    "诉求类型",
    "办件类型",
    "问题分类",
    "标题",
    "诉求内容",
    "事发地址",
    "街道（乡镇）",
    "社区（村）",
    "网格",
    "状态",
    "当前承办层级",
    "主办单位",
    "当前办理期限",
    "是否超期",
    "结案时间",
    "办理结果",
    "回访满意度",
]
COL = {name: i for i, name in enumerate(HEADERS)}


@pytest.fixture
def scenario(world: World) -> Scenario:
    built = build(world)
    with frozen(NOW):
        while do_refresh(actor=None, limit=1000):  # the statistics' facts, for counted=
            pass
    return built


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = response.getvalue()
    assert body.startswith(codecs.BOM_UTF8)  # Excel reads the file as UTF-8 only with it
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def xlsx_rows(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.status_code
    book = load_workbook(io.BytesIO(response.getvalue()))
    assert len(book.worksheets) == 1
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def listed(world: World, username: str, query: str) -> list[str]:
    """The numbers of the list's own queryset for the query, in the list's order."""
    user = world.u(username)
    permissions.forget_scope(user)
    found = listing(user, QueryDict(query), NOW)
    assert found.valid, found.form.errors
    return list(found.cases.order_by("-received_at", "-pk").values_list("number", flat=True))


def shown_by_the_page(client: Client, query: str) -> list[str]:
    html = client.get(f"/cases/?{query}").content.decode()
    return re.findall(r'<td><a href="/cases/([^/"]+)/">', html)


QUERIES = [
    "",
    "queue=all",
    "queue=overdue",
    "queue=handling",
    "group=done",
    "jurisdiction=430103002&received_from=2026-03-01&received_to=2026-03-31",
    "closed_from=2026-03-01&closed_to=2026-03-16&queue=all",
    "channel=hotline&nature=complaint&category=01",
    "q=2026&status=resolved&status=revisited&status=direct_answered",
]


def test_both_files_hold_exactly_the_rows_of_the_list(scenario: Scenario, client_for: Clients) -> None:
    client = client_for("tx_leader")
    picked = set()
    with frozen(NOW):
        for query in QUERIES:
            expected = listed(scenario.world, "tx_leader", query)
            picked.add(tuple(expected))
            # Fewer than a page: the page shows them all.
            assert shown_by_the_page(client, query) == expected, query
            rows = csv_rows(client.get(f"/cases/export.csv?{query}"))
            book = xlsx_rows(client.get(f"/cases/export.xlsx?{query}"))
            assert rows[0] == HEADERS
            assert [r[0] for r in rows[1:]] == expected, query
            assert book[0] == HEADERS
            assert [r[0] for r in book[1:]] == expected, query
    # The comparisons mean something: the queries pick different, non-empty sets.
    assert len(picked) >= 6
    assert () not in picked


def test_each_statistics_link_exports_what_it_counted(scenario: Scenario, client_for: Clients) -> None:
    client = client_for("tx_leader")
    with frozen(NOW):
        page = client.get("/stats/?j=430103&p=2026-03")
        links = case_list_links(page.content.decode())
        counted = set()
        for href, text in links:
            shown = int(re.findall(r"\d+", text)[-1])
            query = urlsplit(href).query
            counted.add(dict(parse_qsl(query)).get("counted", ""))
            numbers = [r[0] for r in csv_rows(client.get(f"/cases/export.csv?{query}"))[1:]]
            assert len(numbers) == shown, (href, text, numbers)
            assert numbers == listed(scenario.world, "tx_leader", query), href
    assert {"", "closed", "closed_on_time", "revisited"} <= counted, counted


def test_the_columns_say_what_the_case_page_says(scenario: Scenario, client_for: Clients) -> None:
    with frozen(NOW):
        rows = {r[0]: r for r in csv_rows(client_for("tx_leader").get("/cases/export.csv"))[1:]}
    a, c, d = rows[scenario.number("A")], rows[scenario.number("C")], rows[scenario.number("D")]
    assert a[COL["问题分类"]] == "城乡建设 / 市政管理 / 道路破损"
    assert (a[COL["街道（乡镇）"]], a[COL["社区（村）"]], a[COL["网格"]]) == (
        "坡子街街道",
        "八角亭社区",
        "430103002001001",
    )
    assert (a[COL["来源渠道"]], a[COL["诉求类型"]], a[COL["办件类型"]]) == ("热线电话", "投诉", "承诺件")
    assert a[COL["主办单位"]] == "天心区城市管理和综合执法局"
    assert a[COL["当前承办层级"]] == "天心区"
    # Closed on time, basically satisfied; closed late (handling deadline 03-09, closed 03-12), unsatisfied.
    assert (a[COL["是否超期"]], a[COL["回访满意度"]], a[COL["当前办理期限"]]) == ("否", "基本满意", "")
    assert (c[COL["是否超期"]], c[COL["回访满意度"]]) == ("是", "不满意")
    assert c[COL["结案时间"]].startswith("2026-03-12 ")
    # Open and past its deadline: overdue, with the deadline that passed; no closing, no revisit.
    assert d[COL["是否超期"]] == "是"
    assert d[COL["当前办理期限"]].startswith("2026-03-12 ")
    assert (d[COL["结案时间"]], d[COL["回访满意度"]]) == ("", "")
    assert d[COL["状态"]] == "办理中"
    assert re.fullmatch(r"2026-03-05 \d\d:\d\d", d[COL["受理时间"]])
    # E: dispatched today, waiting for acceptance, on time.
    assert rows[scenario.number("E")][COL["是否超期"]] == "否"
    # K: the resident could not be reached.
    assert rows[scenario.number("K")][COL["回访满意度"]] == "未评价"


def test_a_handler_exports_only_their_units_cases(scenario: Scenario, client_for: Clients) -> None:
    with frozen(NOW):
        numbers = {r[0] for r in csv_rows(client_for("tx_cg_handler").get("/cases/export.csv"))[1:]}
        in_xlsx = {r[0] for r in xlsx_rows(client_for("tx_cg_handler").get("/cases/export.xlsx"))[1:]}
    given = set(
        CaseAssignment.objects.filter(unit__code="430103-cg")
        .values_list("case__number", flat=True)
        .distinct()
    )
    assert numbers == in_xlsx == given
    assert scenario.number("A") in numbers
    # M is led by the city's 城管局, F was answered directly, Y1 is 雨花区's: none was given to this unit.
    assert not numbers & {scenario.number(k) for k in ("M", "F", "Y1", "Y2")}


def test_another_district_gets_nothing_of_tianxin(scenario: Scenario, client_for: Clients) -> None:
    client = client_for("yh_dispatcher")
    with frozen(NOW):
        numbers = {r[0] for r in csv_rows(client.get("/cases/export.csv?queue=all"))[1:]}
        assert numbers == {scenario.number("Y1"), scenario.number("Y2")}
        # Asking for 天心区 by name is a filter error (as on the list), not a file of its cases.
        refused = client.get("/cases/export.csv?jurisdiction=430103")
        assert refused.status_code == 303
        assert refused["Location"] == "/cases/?jurisdiction=430103"
        assert client.get("/cases/export.xlsx?unit=430103-cg").status_code == 303
        page = client.get(refused["Location"]).content.decode()
    assert "请先修正筛选条件，再导出列表。" in page
    assert scenario.number("A") not in page
    # Without the case screens, nothing at all (the district's administrator, a grid worker).
    for username in ("yh_admin", "bjt_grid"):
        assert client_for(username).get("/cases/export.csv").status_code == 403
        assert client_for(username).get("/cases/export.xlsx").status_code == 403


def test_numbers_residents_wrote_leave_masked(world: World, client_for: Clients) -> None:
    case = new_case(
        world,
        title="噪音扰民 请回电13912345678",
        description="楼下装修噪音，联系电话13812345678，身份证号430103199001011234。",
        address="坡子街1号 13712345678",
        reporter_name="李四",
        reporter_phone="13698765432",
    )
    # A number right across the excerpt's end is masked before the text is cut.
    long = new_case(world, description="字" * 495 + "13587654321" + "尾" * 100)
    client = client_for("tx_dispatcher")
    body = client.get("/cases/export.csv").getvalue().decode("utf-8-sig")
    book = client.get("/cases/export.xlsx").getvalue()
    cells = " ".join(str(v) for row in xlsx_rows_of(book) for v in row if v is not None)
    for text in (body, cells):
        for raw in ("13912345678", "13812345678", "430103199001011234", "13712345678", "1358765"):
            assert raw not in text
        for masked in ("139****5678", "138****5678", "430103********1234", "137****5678"):
            assert masked in text
        # No reporter column: neither the name nor the phone, masked or not.
        assert "李四" not in text
        assert "13698765432" not in text
        assert "136****5432" not in text
    rows = {r[0]: r for r in csv.reader(io.StringIO(body))}
    assert rows[case.number][COL["标题"]] == "噪音扰民 请回电139****5678"
    excerpt = rows[long.number][COL["诉求内容"]]
    assert excerpt == "字" * 495 + "135**…"


def xlsx_rows_of(body: bytes) -> list[tuple[Any, ...]]:
    return list(load_workbook(io.BytesIO(body)).worksheets[0].iter_rows(values_only=True))


def test_text_a_spreadsheet_would_run_stays_text(world: World, client_for: Clients) -> None:
    case = new_case(world, title='=HYPERLINK("http://x","点我")', address="-1+1")
    client = client_for("tx_dispatcher")
    rows = {r[0]: r for r in csv_rows(client.get("/cases/export.csv"))[1:]}
    assert rows[case.number][COL["标题"]] == '\'=HYPERLINK("http://x","点我")'
    assert rows[case.number][COL["事发地址"]] == "'-1+1"
    sheet = load_workbook(io.BytesIO(client.get("/cases/export.xlsx").getvalue())).worksheets[0]
    title = sheet.cell(row=2, column=COL["标题"] + 1)
    assert (title.value, title.data_type) == ('=HYPERLINK("http://x","点我")', "s")


def test_the_workbook_has_the_rows_dates_and_a_bold_header(scenario: Scenario, client_for: Clients) -> None:
    with frozen(NOW):
        response = client_for("tx_leader").get("/cases/export.xlsx?queue=all")
        expected = listed(scenario.world, "tx_leader", "queue=all")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert re.fullmatch(
        r'attachment; filename="cases-all-20260316-1000\.xlsx"', response["Content-Disposition"]
    )
    sheet = load_workbook(io.BytesIO(response.getvalue())).worksheets[0]
    assert sheet.title == "工单"
    assert sheet.max_row == len(expected) + 1
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    received = sheet.cell(row=2, column=COL["受理时间"] + 1)
    assert isinstance(received.value, datetime)
    assert received.number_format == "yyyy-mm-dd hh:mm"
    first = Case.objects.get(number=expected[0])
    local = first.received_at.astimezone(NOW.tzinfo).replace(tzinfo=None)
    assert abs((received.value - local).total_seconds()) < 1  # local wall-clock time, as the desk reads it


def test_the_csv_is_named_after_the_queue_and_the_time(scenario: Scenario, client_for: Clients) -> None:
    with frozen(NOW):
        response = client_for("tx_leader").get("/cases/export.csv?queue=overdue&group=open")
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="cases-overdue-20260316-1000.csv"'


def test_a_list_over_the_cap_is_refused_not_cut(
    scenario: Scenario, client_for: Clients, settings: Settings
) -> None:
    client = client_for("tx_leader")
    with frozen(NOW):
        count = len(listed(scenario.world, "tx_leader", "queue=all&group=done"))
        settings.CASE_EXPORT_MAX_ROWS = count
        assert len(csv_rows(client.get("/cases/export.csv?queue=all&group=done"))) == count + 1
        settings.CASE_EXPORT_MAX_ROWS = count - 1
        for fmt in ("csv", "xlsx"):
            response = client.get(f"/cases/export.{fmt}?queue=all&group=done")
            assert response.status_code == 303
            assert response["Location"] == "/cases/?queue=all&group=done"
        page = client.get(response["Location"]).content.decode()
    assert f"当前列表共 {count} 件，超过导出上限 {count - 1} 件。请缩小筛选范围" in page
    # The list itself says so in place of the buttons.
    assert f"超过 {count - 1} 件，请缩小筛选范围后再导出。" in page
    assert 'id="export-csv"' not in page


def test_the_list_links_to_the_export_of_what_it_shows(scenario: Scenario, client_for: Clients) -> None:
    query = "jurisdiction=430103002&counted=closed&received_from=2026-03-01&received_to=2026-03-31"
    with frozen(NOW):
        html = client_for("tx_leader").get(f"/cases/?{query}&queue=all&offset=0").content.decode()
    hrefs = dict(re.findall(r'href="(/cases/export\.(?:csv|xlsx))\?([^"]+)" id="export-', html))
    assert set(hrefs) == {"/cases/export.csv", "/cases/export.xlsx"}
    for found in hrefs.values():
        params = parse_qsl(found.replace("&amp;", "&"))
        assert sorted(params) == sorted([*parse_qsl(query), ("queue", "all")])  # no page offset
    assert ">导出 CSV</a>" in html
    assert ">导出 Excel</a>" in html


def test_the_export_is_a_read(world: World, client_for: Clients) -> None:
    client = client_for("tx_dispatcher")
    assert client.post("/cases/export.csv").status_code == 405
    assert client.post("/cases/export.xlsx").status_code == 405
    assert client.head("/cases/export.csv").status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(db: None) -> None:
    for url in ("/cases/export.csv", "/cases/export.xlsx"):
        response = Client().get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]
