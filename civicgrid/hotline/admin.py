"""The knowledge base in the admin: administrators edit the entries of their own areas (superusers also the
platform-wide ones); every save goes through hotline.actions.do_save_knowledge_entry."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from civicgrid.accounts.permissions import acting_user
from civicgrid.core.admin_scope import ScopedAdminMixin
from civicgrid.hotline import actions
from civicgrid.hotline.models import AnswerUse, KnowledgeEntry


class KnowledgeEntryForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = KnowledgeEntry
        fields = ("title", "answer", "keywords", "category", "jurisdiction", "is_published")

    def __init__(self, *args: Any, actor: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            actions.check_knowledge_entry(
                title=cleaned.get("title") or "",
                answer=cleaned.get("answer") or "",
                keywords=cleaned.get("keywords") or "",
                jurisdiction=cleaned.get("jurisdiction"),
                actor=self.actor,
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        return cleaned


@admin.register(KnowledgeEntry)
class KnowledgeEntryAdmin(ScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = KnowledgeEntryForm
    scope_path = "jurisdiction__path"
    list_display = ("title", "category", "jurisdiction", "is_published", "use_count", "updated_at")
    list_filter = ("is_published",)
    search_fields = ("title", "keywords", "answer")
    readonly_fields = ("use_count", "updated_at", "updated_by")
    list_select_related = ("category", "jurisdiction")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Superusers see everything (the mixin's filter is empty for them); administrators see their areas'
        # entries — platform-wide ones (no jurisdiction) are the superusers' to edit.
        return super().get_queryset(request).select_related("category", "jurisdiction")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        actor = acting_user(request)

        class ScopedForm(form_class):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, actor=actor, **kw)

        return ScopedForm

    def save_model(self, request: HttpRequest, obj: KnowledgeEntry, form: Any, change: bool) -> None:
        saved = actions.do_save_knowledge_entry(
            obj if change else None,
            title=obj.title,
            answer=obj.answer,
            keywords=obj.keywords,
            category=obj.category,
            jurisdiction=obj.jurisdiction,
            is_published=obj.is_published,
            actor=acting_user(request),
        )
        obj.pk = saved.pk


@admin.register(AnswerUse)
class AnswerUseAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: which entry answered which call (written only by do_answer_call)."""

    list_display = ("at", "entry", "case", "actor")
    list_select_related = ("entry", "case", "actor")
    search_fields = ("entry__title", "case__number")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
