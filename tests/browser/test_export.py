"""The case list's export in Chromium: a dispatcher filters the list, clicks 导出 CSV and gets a file holding
exactly the filtered cases, with Chinese headers and the phone a resident wrote masked."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import check_accessibility, login
from tests.cases.helpers import new_case
from tests.world import World

pytestmark = pytest.mark.browser


def test_a_dispatcher_exports_the_filtered_list(page: Page, bworld: World) -> None:
    covers = [new_case(bworld, title=f"井盖缺失 {i}", description="请联系13812345678") for i in range(2)]
    new_case(bworld, title="噪音扰民")
    login(page, "tx_dispatcher")
    page.goto("/cases/")
    page.locator("details:has(#filter-form) > summary").click()
    page.locator("#id_q").fill("井盖")
    page.locator("#filter-form button[type=submit]").click()
    expect(page.locator("#case-list tbody tr")).to_have_count(2)
    check_accessibility(page)

    with page.expect_download() as info:
        page.get_by_role("link", name="导出 CSV").click()
    download = info.value
    assert re.fullmatch(r"cases-all-\d{8}-\d{4}\.csv", download.suggested_filename)
    path = download.path()
    assert path is not None
    body = path.read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["工单编号", "受理时间", "来源渠道"]
    assert sorted(r[0] for r in rows[1:]) == sorted(c.number for c in covers)
    assert "13812345678" not in body.decode("utf-8-sig")
    assert "138****5678" in body.decode("utf-8-sig")
    expect(page.locator("#case-list tbody tr")).to_have_count(2)  # still on the list
