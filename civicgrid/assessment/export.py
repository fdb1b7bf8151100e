"""A ranking as an .xlsx workbook: the table (numbers as numbers, every rate with its numerator and
denominator) and a sheet of the scheme's rules, so the file explains itself when it is passed on."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from civicgrid.stats.definitions import RATE

from .models import Standing
from .ranking import Ranking, period_code


def ranking_workbook(ranking: Ranking) -> bytes:
    scheme = ranking.scheme
    book = Workbook()
    bold = Font(bold=True)
    sheet = book.active
    sheet.title = _("Ranking")[:31]
    title = f"{scheme.name} {period_code(scheme.period, ranking.period)}"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    if ranking.published is not None:
        sheet.append(
            [
                _("Published version %(v)s, %(at)s")
                % {"v": ranking.published.version, "at": f"{ranking.published.published_at:%Y-%m-%d %H:%M}"}
            ]
        )
    else:
        sheet.append([_("Live figures, not published")])
    header = [_("Rank"), _("Name"), _("Code"), _("Group"), _("Due for closing")]
    for rule in ranking.rules:
        label = str(RATE[rule.rate].label)
        header += [
            label,
            _("%(rate)s numerator") % {"rate": label},
            _("%(rate)s denominator") % {"rate": label},
        ]
        header.append(
            _("%(rate)s points (of %(weight)s)") % {"rate": label, "weight": f"{float(rule.weight):g}"}
        )
    header += [_("Score"), _("Standing")]
    sheet.append([])
    sheet.append(header)
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for e in ranking.entries:
        row: list[object] = [e.rank, e.name, e.code, e.group, e.counts.get("due", 0)]
        for m in e.marks:
            value = m.ratio.value
            row += [
                None if value is None else float(value),
                float(m.ratio.numerator),
                m.ratio.denominator,
                None if m.points is None else round(float(m.points), 2),
            ]
        row += [None if e.score is None else round(float(e.score), 2), str(Standing(e.standing).label)]
        sheet.append(row)
        for k in range(len(e.marks)):
            sheet.cell(sheet.max_row, 6 + 4 * k).number_format = "0.0%"
    rules = book.create_sheet(_("Rules")[:31])
    rules.append([_("Rate"), _("Weight (points)"), _("Target"), _("Floor"), _("Lower is better")])
    for cell in rules[1]:
        cell.font = bold
    for rule in ranking.rules:
        rules.append(
            [
                str(RATE[rule.rate].label),
                float(rule.weight),
                float(rule.target),
                None if rule.floor is None else float(rule.floor),
                _("yes") if rule.lower_is_better else _("no"),
            ]
        )
        rules.cell(rules.max_row, 3).number_format = rules.cell(rules.max_row, 4).number_format = "0.0%"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
