from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from civicgrid.accounts import actions, permissions
from civicgrid.accounts.forms import RevealForm, StaffSearchForm
from civicgrid.accounts.models import RoleGrant, User
from civicgrid.accounts.permissions import Capability, acting_user, require_capability


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


def _visible_staff_with_grants(user: User) -> object:
    return permissions.visible_staff(user).prefetch_related(
        Prefetch("grants", queryset=RoleGrant.objects.select_related("jurisdiction", "unit").order_by("role"))
    )


@require_capability(Capability.VIEW_STAFF)
def staff_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = StaffSearchForm(request.GET or None)
    staff = permissions.visible_staff(user).prefetch_related(
        Prefetch("grants", queryset=RoleGrant.objects.select_related("jurisdiction", "unit").order_by("role"))
    )
    if form.is_valid():
        if q := form.cleaned_data["q"]:
            staff = staff.filter(Q(full_name__icontains=q) | Q(username__icontains=q))
        if role := form.cleaned_data["role"]:
            staff = staff.filter(grants__role=role).distinct()
    page = Paginator(staff.order_by("username"), 50).get_page(request.GET.get("page"))
    template = "accounts/_staff_rows.html" if request.htmx else "accounts/staff_list.html"  # type: ignore[attr-defined]
    return render(request, template, {"form": form, "page": page})


@require_capability(Capability.VIEW_STAFF)
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    member = get_object_or_404(permissions.visible_staff(user), pk=pk)
    context = {
        "member": member,
        "grants": member.grants.select_related("jurisdiction", "unit").order_by("role"),
        "can_reveal": permissions.can_view_personal_data_of(user, member),
        "reveal_form": RevealForm(),
        "cells": member.grid_cells.select_related("community"),
    }
    return render(request, "accounts/staff_detail.html", context)


@require_POST
@require_capability(Capability.VIEW_PERSONAL_DATA)
def reveal_phone(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a staff member's full phone number once, logging who saw it and why."""
    user = acting_user(request)
    member = get_object_or_404(permissions.visible_staff(user), pk=pk)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return render(request, "accounts/_reveal.html", {"member": member, "reveal_form": form}, status=400)
    try:
        phone = actions.do_reveal_phone(member, actor=user, purpose=form.cleaned_data["purpose"])
    except PermissionDenied:
        raise
    return render(request, "accounts/_reveal.html", {"member": member, "phone": phone})
