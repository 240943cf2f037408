"""The four batches (四个一批) and their measure types, and which measures each cause of hardship suggests.

Reference data, shipped complete (migration 0002) and kept by national administrators in the admin. A measure
type's name is data: `name` in Chinese and `name_en` for the English interface (`label` picks by language).
"""

from __future__ import annotations

from decimal import Decimal

import pghistory
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from dossiers.choices import Cause
from hardship.access import FileQuerySet


class Batch(models.TextChoices):
    """四个一批, and the union's regular help that is none of them."""

    EMPLOYMENT = "employment", _("就业创业解困脱困一批")
    SOCIAL_INSURANCE = "social_insurance", _("纳入社会保险覆盖一批")
    MEDICAL = "medical", _("大病保险和医疗互助保障一批")
    BACKSTOP = "backstop", _("社会救助兜底一批")
    REGULAR = "regular", _("工会常态化帮扶")


@pghistory.track()
class MeasureType(models.Model):
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    batch = models.CharField(_("所属批次"), max_length=20, choices=Batch.choices)
    name = models.CharField(_("名称"), max_length=60, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=80, blank=True)
    description = models.TextField(_("说明"), blank=True)
    involves_money = models.BooleanField(_("涉及资金或物资"), default=False,
                                         help_text=_("措施须填写金额（元）"))
    active = models.BooleanField(_("可选用"), default=True, help_text=_("停用后不能用于新措施，已有措施不受影响"))
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("帮扶措施类型")
        verbose_name_plural = _("帮扶措施类型")
        ordering = ["batch", "position", "pk"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        english = (translation.get_language() or "").startswith("en")
        return self.name_en if english and self.name_en else self.name


@pghistory.track()
class CauseSuggestion(models.Model):
    """A measure type proposed for a household with this cause of hardship (main or secondary); the caseworker
    chooses. The lower the position, the earlier it is proposed."""

    cause = models.PositiveSmallIntegerField(_("致困原因"), choices=Cause.choices)
    measure_type = models.ForeignKey(MeasureType, verbose_name=_("建议措施"), on_delete=models.CASCADE,
                                     related_name="suggested_for")
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("致困原因对应的建议措施")
        verbose_name_plural = _("致困原因对应的建议措施")
        ordering = ["cause", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["cause", "measure_type"], name="suggestion_once_per_cause")]

    def __str__(self) -> str:
        return f"{self.get_cause_display()} → {self.measure_type}"


class PlanQuerySet(FileQuerySet):
    scope_path_lookup = "household__union__path"


@pghistory.track()
class Plan(models.Model):
    """一户一计划: the household's one help plan. Edited in place; every earlier version stays readable in its
    history (who, when, what changed), and `version` counts the changes."""

    household = models.OneToOneField("dossiers.Household", verbose_name=_("家庭"), on_delete=models.PROTECT,
                                     related_name="plan")
    goal = models.TextField(_("帮扶目标"))
    target_year = models.PositiveSmallIntegerField(_("计划脱困年度"))
    deadline = models.DateField(_("计划脱困日期"))
    responsible = models.CharField(_("责任单位及责任人"), max_length=120)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("制定人"), on_delete=models.PROTECT,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(_("制定时间"), default=timezone.now, editable=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("最后修改人"), on_delete=models.PROTECT,
                                   related_name="+", editable=False)
    updated_at = models.DateTimeField(_("最后修改时间"), default=timezone.now, editable=False)

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("帮扶计划")
        verbose_name_plural = _("帮扶计划")
        constraints = [
            models.CheckConstraint(condition=models.Q(target_year__gte=2000, target_year__lte=2100),
                                   name="plan_target_year_plausible"),
        ]

    def __str__(self) -> str:
        return str(_("%(file)s 的帮扶计划")) % {"file": self.household.file_number}

    @property
    def scope_union(self):
        return self.household.union


class MeasureQuerySet(FileQuerySet):
    scope_path_lookup = "household__union__path"

    def overdue(self, today):
        return self.filter(status__in=Measure.OPEN_STATUSES, due_on__lt=today)


@pghistory.track()
class Measure(models.Model):
    """一户一措施: one concrete measure of a plan, in one of the batches."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("计划")
        IN_PROGRESS = "in_progress", _("实施中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("未能落实")

    OPEN_STATUSES = (Status.PLANNED, Status.IN_PROGRESS)

    plan = models.ForeignKey(Plan, verbose_name=_("帮扶计划"), on_delete=models.CASCADE, related_name="measures")
    # The plan's household, copied: the file's history and the queues find a measure by it.
    household = models.ForeignKey("dossiers.Household", verbose_name=_("家庭"), on_delete=models.PROTECT,
                                  related_name="measures", editable=False)
    measure_type = models.ForeignKey(MeasureType, verbose_name=_("措施类型"), on_delete=models.PROTECT,
                                     related_name="measures")
    description = models.TextField(_("具体内容"))
    responsible = models.CharField(_("责任人"), max_length=60)
    due_on = models.DateField(_("完成期限"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PLANNED)
    outcome = models.TextField(_("落实情况"), blank=True)
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2, null=True, blank=True,
                                 validators=[MinValueValidator(Decimal("0.01"))])
    monthly_income = models.DecimalField(_("带来的月收入（元）"), max_digits=10, decimal_places=2, null=True,
                                         blank=True, validators=[MinValueValidator(Decimal("0.00"))],
                                         help_text=_("如安排就业后的月工资"))
    evidence = models.TextField(_("佐证材料"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("最后修改时间"), default=timezone.now, editable=False)

    objects = MeasureQuerySet.as_manager()

    class Meta:
        verbose_name = _("帮扶措施")
        verbose_name_plural = _("帮扶措施")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["status", "due_on"], name="measure_open_due_idx",
                                condition=models.Q(status__in=["planned", "in_progress"]))]

    def __str__(self) -> str:
        return f"{self.measure_type}：{self.description[:30]}"

    def save(self, *args, **kwargs):
        self.household_id = self.plan.household_id
        super().save(*args, **kwargs)

    @property
    def scope_union(self):
        return self.household.union

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


from assistance.subsidy_models import (  # noqa: E402,F401  (one app, two modules of models)
    BankReturn,
    Campaign,
    CampaignVisit,
    Discrepancy,
    Frequency,
    FundBudget,
    FundSource,
    LivingAidYear,
    Payment,
    PaymentBatch,
    Schedule,
    SkippedSchedule,
    SkipReason,
    SubsidyKind,
)
