"""The report as an .xlsx workbook (openpyxl): the sentences, the figures with 同比 / 环比, every rate with
its numerator and denominator, and the breakdown tables — numbers as numbers, so they can be summed."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from civicgrid.stats.definitions import COUNTERS, RATES
from civicgrid.stats.report import Report, Row


def _float(x: object) -> float | None:
    return None if x is None else float(x)  # type: ignore[arg-type]


def report_workbook(report: Report, sentences: list[str]) -> bytes:
    book = Workbook()
    bold = Font(bold=True)
    sheet = book.active
    sheet.title = _("Summary")[:31]
    sheet.append([f"{report.area} {report.period.first.isoformat()} – {report.period.last.isoformat()}"])
    sheet["A1"].font = Font(bold=True, size=14)
    for s in sentences:
        sheet.append([s])
    sheet.append([])
    sheet.append(
        [
            _("Figure"),
            _("This period"),
            _("Same period last year"),
            _("Period before"),
            _("Year on year"),
            _("Period on period"),
        ]
    )
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for c in COUNTERS:
        yoy, mom = report.change(c.code), report.change(c.code, "previous")
        sheet.append(
            [
                str(c.label),
                report.counts[c.code],
                report.year_before[c.code],
                report.previous[c.code],
                _float(yoy.rate),
                _float(mom.rate),
            ]
        )
        sheet.cell(sheet.max_row, 5).number_format = sheet.cell(sheet.max_row, 6).number_format = "0.0%"
    rates = book.create_sheet(_("Rates")[:31])
    rates.append(
        [
            _("Rate"),
            _("Numerator"),
            _("Denominator"),
            _("Rate"),
            _("Same period last year"),
            _("Period before"),
        ]
    )
    for cell in rates[1]:
        cell.font = bold
    for r in RATES:
        ratio = report.rate(r.code)
        rates.append(
            [
                str(r.label),
                float(ratio.numerator),
                ratio.denominator,
                _float(ratio.value),
                _float(report.rate(r.code, "year_before").value),
                _float(report.rate(r.code, "previous").value),
            ]
        )
        for col in (4, 5, 6):
            rates.cell(rates.max_row, col).number_format = "0.0%"
    for title, rows in (
        (_("Areas below"), report.children),
        (_("Classes of request"), report.categories),
        (_("Lead units"), report.units),
        (_("Channels"), report.channels),
        (_("Natures"), report.natures),
    ):
        _table(book.create_sheet(title[:31]), rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _table(sheet: object, rows: list[Row]) -> None:
    codes = [c.code for c in COUNTERS]
    sheet.append([_("Name"), _("Code"), *[str(c.label) for c in COUNTERS], _("Received a year before")])  # type: ignore[attr-defined]
    for cell in sheet[1]:  # type: ignore[index]
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row.name, row.code, *[row.counts[c] for c in codes], row.year_before["received"]])  # type: ignore[attr-defined]
