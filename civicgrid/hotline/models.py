"""The hotline's knowledge base (常见问题) and the record of which entry answered which call.

- ``KnowledgeEntry``: a question residents ask and the answer the operator may give at once (直接答复).
  Edited by administrators in the admin (through ``actions.do_save_knowledge_entry``); an entry applies to
  its jurisdiction's subtree, or everywhere when it has none (``queries.visible_knowledge``).
- ``AnswerUse``: one row per call answered from an entry (written by ``actions.do_answer_call`` together with
  the case), so the use count can be explained case by case.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class KnowledgeEntry(models.Model):
    title = models.CharField(_("question"), max_length=200)
    answer = models.TextField(_("answer"))
    keywords = models.CharField(
        _("keywords"),
        max_length=200,
        blank=True,
        help_text=_("Other words callers use for this question, separated by spaces."),
    )
    category = models.ForeignKey(
        "cases.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
        help_text=_("Given to a call answered with this entry when the operator chose no category."),
    )
    jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("applies to"),
        help_text=_("Blank: the whole platform. Otherwise the area and everything under it."),
    )
    is_published = models.BooleanField(
        _("published"), default=True, help_text=_("Only published entries are offered to operators.")
    )
    # Counted by do_answer_call under a row lock; not touched by edits, so updated_at stays the content's.
    use_count = models.PositiveIntegerField(_("times used"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("knowledge base entry")
        verbose_name_plural = _("knowledge base entries")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class AnswerUse(models.Model):
    """A call answered directly with this entry (the answer given is the case's reply and event)."""

    entry = models.ForeignKey(
        KnowledgeEntry, on_delete=models.PROTECT, related_name="uses", verbose_name=_("knowledge base entry")
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("case"), db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operator"),
    )
    at = models.DateTimeField(_("answered at"))

    class Meta:
        verbose_name = _("knowledge base answer")
        verbose_name_plural = _("knowledge base answers")
        ordering = ["-at"]
        # A call is answered once (the unique index also serves lookups by case).
        constraints = [models.UniqueConstraint(fields=["case"], name="answeruse_case_uniq")]

    def __str__(self) -> str:
        return f"{self.entry_id} → {self.case_id}"
