"""Export of the case list: the cases of the queue and filters on screen, as CSV or .xlsx (civicgrid.cases.export
writes the file). The query string is read by the list's own ``listing``, so the file and the page cannot
disagree, and scope is the list's: ``visible_cases`` of the user, behind the same workplace.

A list longer than ``CASE_EXPORT_MAX_ROWS`` is refused — back to the list with a message asking to narrow the
filters — rather than cut short: a file that silently misses cases would be read as the whole list.
"""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from civicgrid.accounts.permissions import Workplace, acting_user, require_workplace
from civicgrid.cases import export
from civicgrid.cases.views.queues import Listing, listing
from civicgrid.lib import clock

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _refusal(request: HttpRequest, listed: Listing) -> HttpResponse | None:
    """Back to the list, with the reason, when the list cannot be exported as asked; None when it can."""
    if listed.valid:
        count = listed.cases.count()
        limit = settings.CASE_EXPORT_MAX_ROWS
        if count <= limit:
            return None
        messages.error(
            request,
            _(
                "This list holds %(count)s cases, more than the %(limit)s an export may hold. Narrow the "
                "filters (a shorter period, an area, a category or a status) and export again."
            )
            % {"count": count, "limit": limit},
        )
    else:
        messages.error(request, _("Correct the filters before exporting the list."))
    return HttpResponseRedirect(f"{reverse('cases:queues')}?{request.GET.urlencode()}", status=303)


def _filename(listed: Listing, extension: str) -> str:
    return f"cases-{listed.queue.code}-{timezone.localtime(listed.now):%Y%m%d-%H%M}.{extension}"


@require_workplace(Workplace.CASES)
@require_safe
def export_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    listed = listing(acting_user(request), request.GET, clock.now())
    refused = _refusal(request, listed)
    if refused is not None:
        return refused
    response = StreamingHttpResponse(
        export.csv_chunks(listed.cases, listed.now, export.Words.in_active_language()),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(listed, "csv")}"'
    return response


@require_workplace(Workplace.CASES)
@require_safe
def export_xlsx(request: HttpRequest) -> HttpResponse | FileResponse:
    listed = listing(acting_user(request), request.GET, clock.now())
    refused = _refusal(request, listed)
    if refused is not None:
        return refused
    # Written to disk, not to memory: openpyxl's write-only mode keeps only a row at a time, and the
    # response sends the file in blocks. The response closes it (and so deletes it), not a with-block here.
    target = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        export.write_xlsx(listed.cases, listed.now, export.Words.in_active_language(), target)
    except BaseException:
        target.close()
        raise
    target.seek(0)
    return FileResponse(target, as_attachment=True, filename=_filename(listed, "xlsx"), content_type=XLSX)
