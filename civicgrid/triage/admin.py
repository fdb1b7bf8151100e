"""Smart routing in the admin, for the city's administrators (``can_administer_installation``): the policy
(one row), the classifier models (read-only; "train a new model" and "put in use" as actions) and the
training runs with a progress page. Every write goes through civicgrid.triage.actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.permissions import acting_user, can_administer_installation
from civicgrid.triage.actions.models import do_activate_model, do_request_training, do_save_policy
from civicgrid.triage.models import ClassifierModel, ModelSource, TrainingRun, TriageEvent, TriagePolicy


class _InstallationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The permission module decides (administrators have no Django model permissions)."""

    def _allowed(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active) and can_administer_installation(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TriagePolicy)
class TriagePolicyAdmin(_InstallationAdmin):
    fieldsets = (
        (
            _("Category suggestion"),
            {"fields": ("suggest_min_confidence", "auto_dispatch", "auto_dispatch_confidence")},
        ),
        (
            _("Duplicates"),
            {"fields": ("duplicate_radius_m", "duplicate_window_days", "duplicate_min_similarity")},
        ),
        (
            _("Hot topics"),
            {"fields": ("hot_window_days", "hot_radius_m", "hot_min_similarity", "hot_min_cases")},
        ),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request) and not TriagePolicy.objects.exists()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # One row: the list opens it (created with its defaults on first use).
        from civicgrid.triage.policy import policy

        row = policy()
        if row._state.adding:  # never saved: store the defaults, so there is a row to edit
            row = do_save_policy(row, actor=acting_user(request))
        return HttpResponseRedirect(reverse("admin:triage_triagepolicy_change", args=[row.pk]))

    def save_model(self, request: HttpRequest, obj: TriagePolicy, form: Any, change: bool) -> None:
        do_save_policy(obj, actor=acting_user(request))


@admin.register(ClassifierModel)
class ClassifierModelAdmin(_InstallationAdmin):
    list_display = ("version", "is_active", "source", "n_samples", "trained_at", "seconds", "digest")
    list_filter = ("is_active", "source")
    exclude = ("weights",)
    readonly_fields = (
        "version",
        "is_active",
        "source",
        "method",
        "seed",
        "params",
        "labels",
        "n_samples",
        "metrics",
        "digest",
        "trained_at",
        "trained_by",
        "seconds",
    )
    actions = ("put_in_use",)
    change_list_template = "admin/triage/classifiermodel/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClassifierModel]:
        return super().get_queryset(request).defer("weights")

    def get_urls(self) -> list[URLPattern]:
        own = [
            path("train/", self.admin_site.admin_view(self.train_view), name="triage_classifiermodel_train"),
            path(
                "runs/<int:pk>/",
                self.admin_site.admin_view(self.progress_view),
                name="triage_classifiermodel_progress",
            ),
        ]
        return own + super().get_urls()

    @admin.action(description=_("Put the selected model in use"))
    def put_in_use(self, request: HttpRequest, queryset: QuerySet[ClassifierModel]) -> None:
        chosen = list(queryset[:2])
        if len(chosen) != 1:
            self.message_user(request, _("Choose exactly one model."), messages.ERROR)
            return
        do_activate_model(chosen[0], actor=acting_user(request))
        self.message_user(request, _("Model v%(v)s is in use.") % {"v": chosen[0].version}, messages.SUCCESS)

    def train_view(self, request: HttpRequest) -> HttpResponse:
        """The form of "train a new model"; posting it queues a run and opens its progress page."""
        if not self._allowed(request):
            raise PermissionDenied
        error = ""
        if request.method == "POST":
            try:
                seed = int(request.POST.get("seed") or 0)
                run = do_request_training(
                    source=request.POST.get("source", ModelSource.BOTH),
                    seed=seed,
                    activate=request.POST.get("activate") == "on",
                    actor=acting_user(request),
                )
            except ValueError:
                error = str(_("Seed: enter a whole number."))
            except ValidationError as exc:
                error = "; ".join(exc.messages)
            else:
                return HttpResponseRedirect(reverse("admin:triage_classifiermodel_progress", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Train a new model"),
            "opts": self.model._meta,
            "sources": ModelSource.choices,
            "error": error,
            "posted": request.POST if request.method == "POST" else {},
        }
        return render(request, "admin/triage/train.html", context)

    def progress_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The run's progress bar; htmx polls the same URL every second while the run is unfinished."""
        if not self._allowed(request):
            raise PermissionDenied
        run = get_object_or_404(TrainingRun.objects.select_related("model"), pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Training run %(n)s") % {"n": run.pk},
            "opts": self.model._meta,
            "run": run,
            "finished": run.status in ("done", "failed"),
        }
        partial = request.headers.get("HX-Request") == "true"
        return render(
            request, "admin/triage/_progress.html" if partial else "admin/triage/progress.html", context
        )


@admin.register(TrainingRun)
class TrainingRunAdmin(_InstallationAdmin):
    list_display = ("pk", "status", "progress", "source", "seed", "requested_at", "finished_at", "model")
    list_filter = ("status",)


@admin.register(TriageEvent)
class TriageEventAdmin(_InstallationAdmin):
    list_display = ("at", "kind", "actor", "data")
    list_filter = ("kind",)
