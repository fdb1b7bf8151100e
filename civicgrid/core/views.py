from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from civicgrid.accounts import permissions
from civicgrid.accounts.permissions import acting_user
from civicgrid.jurisdictions.queries import scope_roots


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The staff workbench: who I am, where I work, my grid cells and buildings."""
    user = acting_user(request)
    scope = permissions.scope_of(user)
    grants = user.grants.select_related("jurisdiction", "unit").order_by("jurisdiction__path", "role")
    context = {
        "grants": grants,
        "roots": scope_roots(user),
        "can_view_staff": scope.has(permissions.Capability.VIEW_STAFF),
        "my_cells": user.grid_cells.select_related("community").order_by("code"),
        "led_cells": user.led_grid_cells.select_related("community").order_by("code"),
        "my_buildings": user.headed_buildings.select_related("grid_cell").order_by("code"),
    }
    return render(request, "core/home.html", context)
