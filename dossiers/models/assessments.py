"""Assessments against the local standard, kept exactly as they were made."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.assessment import explanation
from dossiers.models.household import Household
from dossiers.models.standards import LocalStandard
from hardship.access import FileQuerySet


class AssessmentQuerySet(FileQuerySet):
    scope_path_lookup = "household__union__path"


@pgtrigger.register(
    pgtrigger.Protect(name="assessment_is_immutable", operation=pgtrigger.Update | pgtrigger.Delete),
)
class Assessment(models.Model):
    """One assessment of a household against the local standard, kept exactly as it was made."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="assessments")
    made_at = models.DateTimeField(_("评估时间"), default=timezone.now)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("评估人"), on_delete=models.PROTECT,
                                related_name="+")
    standard = models.ForeignKey(LocalStandard, verbose_name=_("适用标准"), on_delete=models.PROTECT, related_name="+")
    inputs = models.JSONField(_("评估依据"))
    result = models.JSONField(_("评估结果"))
    per_capita_monthly = models.DecimalField(_("人均月收入（元）"), max_digits=12, decimal_places=2)
    proposed_category = models.CharField(_("建议类别"), max_length=16)
    final_category = models.CharField(_("确定类别"), max_length=16, blank=True)
    override_reason = models.TextField(_("调整理由"), blank=True)
    rule_version = models.CharField(_("规则版本"), max_length=16)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("收入评估")
        verbose_name_plural = _("收入评估")
        ordering = ["-made_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(final_category=F("proposed_category")) | ~Q(override_reason=""),
                name="category_override_needs_a_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.per_capita_monthly} 元/人·月 {self.final_category}"

    @property
    def explanation(self) -> list[str]:
        """The result's reasons in the language of the page."""
        return explanation(self.result)
