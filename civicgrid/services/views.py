from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from civicgrid.accounts.permissions import Workplace, require_workplace


@require_workplace(Workplace.WINDOW)
def desk(request: HttpRequest) -> HttpResponse:
    return render(request, "services/desk.html")
