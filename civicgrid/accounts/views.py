from __future__ import annotations

from django.contrib.auth import views as auth_views
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
    return render(request, "accounts/staff_detail.html", _detail_context(user, member, {}))


def _detail_context(user: User, member: User, extra: dict[str, object]) -> dict[str, object]:
    context: dict[str, object] = {
        "member": member,
        "grants": member.grants.select_related("jurisdiction", "unit").order_by("role"),
        "can_reveal": permissions.can_view_personal_data_of(user, member),
        "reveal_form": RevealForm(),
        "cells": member.grid_cells.select_related("community"),
    }
    context.update(extra)
    return context


@require_POST
@require_capability(Capability.VIEW_PERSONAL_DATA)
def reveal_phone(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a staff member's full phone number once, logging who saw it and why."""
    user = acting_user(request)
    member = get_object_or_404(permissions.visible_staff(user), pk=pk)
    form = RevealForm(request.POST)
    if not form.is_valid():
        # 422 so that htmx swaps the form back in with its field error (htmx.config in base.html).
        context = {"member": member, "reveal_form": form}
        return render(request, _reveal_template(request), _detail_context(user, member, context), status=422)
    phone = actions.do_reveal_phone(member, actor=user, purpose=form.cleaned_data["purpose"])
    return render(request, _reveal_template(request), _detail_context(user, member, {"phone": phone}))


def _reveal_template(request: HttpRequest) -> str:
    # Without JavaScript the form posts normally: answer with the whole page, not the fragment.
    return "accounts/_reveal.html" if request.htmx else "accounts/staff_detail.html"  # type: ignore[attr-defined]
