"""The register's records: its events, home visits, notice objections, exit proposals and transfers."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pghistory
import pgtrigger
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.choices import Status
from dossiers.models.household import Household
from hardship.access import FileQuerySet
from hardship.models import Union


class RegisterEventQuerySet(FileQuerySet):
    scope_path_lookup = "household__union__path"


@pgtrigger.register(
    pgtrigger.Protect(name="register_event_is_immutable", operation=pgtrigger.Update | pgtrigger.Delete),
)
class RegisterEvent(models.Model):
    """A step of the register lifecycle: who moved the file from which status to which, and why."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="register_events")
    transition = models.CharField(_("操作"), max_length=32)
    from_status = models.CharField(_("原状态"), max_length=16, choices=Status.choices)
    to_status = models.CharField(_("新状态"), max_length=16, choices=Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT,
                              related_name="+")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    reason = models.TextField(_("意见或理由"), blank=True)
    data = models.JSONField(_("附加信息"), default=dict, blank=True)

    objects = RegisterEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("档案流转记录")
        verbose_name_plural = _("档案流转记录")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["household", "-at"], name="register_event_household_idx")]

    def __str__(self) -> str:
        return f"{self.label} {self.from_status}→{self.to_status}"

    @property
    def label(self) -> str:
        from dossiers.register import event_label

        return event_label(self.transition)


@pghistory.track()
class Visit(models.Model):
    """A home visit (入户调查) or a later follow-up visit, call or office visit (走访)."""

    class Kind(models.TextChoices):
        HOME = "home", _("入户")
        PHONE = "phone", _("电话")
        OFFICE = "office", _("来访")

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="visits")
    visited_on = models.DateField(_("走访日期"))
    kind = models.CharField(_("走访方式"), max_length=8, choices=Kind.choices, default=Kind.HOME)
    helper = models.ForeignKey("dossiers.Helper", verbose_name=_("帮扶责任人"), on_delete=models.PROTECT, null=True,
                               blank=True, related_name="visits")
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("走访人"), on_delete=models.PROTECT,
                                related_name="+")
    companions = models.CharField(_("同行人员"), max_length=200, blank=True)
    findings = models.TextField(_("走访情况"))
    agreed = models.TextField(_("商定事项"), blank=True)
    follow_up = models.TextField(_("后续跟进"), blank=True)
    signed_application = models.BooleanField(_("已收到本人签字的申请书"), default=False)
    finance_authorisation = models.BooleanField(_("已收到家庭经济状况核对授权书"), default=False)
    is_initial = models.BooleanField(_("建档入户调查"), default=False)

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.visited_on:%Y-%m-%d} {self.findings[:20]}"


@pghistory.track()
class Objection(models.Model):
    """An objection received during the public notice (公示)."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="objections")
    received_on = models.DateField(_("收到日期"))
    content = models.TextField(_("异议内容"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT,
                                    related_name="+")
    upheld = models.BooleanField(_("异议成立"), null=True)
    decision = models.TextField(_("核实结论"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("核实人"), on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)

    class Meta:
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")
        ordering = ["received_on", "pk"]

    def __str__(self) -> str:
        return f"{self.received_on:%Y-%m-%d} {self.content[:20]}"


class ExitKind(models.TextChoices):
    EXIT = "exit", _("脱困")
    RELIEF = "relief", _("解困")
    REMOVAL = "removal", _("注销")


class RemovalReason(models.TextChoices):
    DEATH = "death", _("死亡")
    RETIREMENT = "retirement", _("退休")
    TRANSFER = "transfer", _("迁出")
    INELIGIBLE = "ineligible", _("经核查不符合标准")


@pghistory.track()
class ExitProposal(models.Model):
    """A caseworker's proposal to take a household off the register, decided by a higher union."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="exit_proposals")
    kind = models.CharField(_("退出方式"), max_length=16, choices=ExitKind.choices)
    removal_reason = models.CharField(_("注销原因"), max_length=16, choices=RemovalReason.choices, blank=True)
    # Per-capita monthly income of the months before the proposal, oldest first, from first_income_month.
    monthly_incomes = ArrayField(
        models.DecimalField(max_digits=12, decimal_places=2), verbose_name=_("最近 6 个月人均收入"), default=list,
        blank=True,
    )
    first_income_month = models.DateField(_("收入起始月份"), null=True, blank=True)
    evidence = models.TextField(_("依据"))
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提出人"), on_delete=models.PROTECT,
                                    related_name="+")
    proposed_at = models.DateTimeField(_("提出时间"), default=timezone.now)
    approved = models.BooleanField(_("批准"), null=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审批人"), on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)

    class Meta:
        verbose_name = _("退出申请")
        verbose_name_plural = _("退出申请")
        ordering = ["-proposed_at"]
        constraints = [
            models.UniqueConstraint(fields=["household"], condition=Q(approved__isnull=True),
                                    name="one_pending_exit_per_household"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.proposed_at:%Y-%m-%d}"

    def income_by_month(self) -> list[tuple[datetime.date, Decimal]]:
        """(first day of the month, per-capita income) for each month of the evidence, oldest first."""
        if self.first_income_month is None:
            return []
        return [(self.first_income_month + relativedelta(months=index), Decimal(income))
                for index, income in enumerate(self.monthly_incomes)]


@pghistory.track()
class Transfer(models.Model):
    """Handing a file to another union (employer dissolved, family moved); the receiver accepts it."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="transfers")
    from_union = models.ForeignKey(Union, verbose_name=_("转出单位"), on_delete=models.PROTECT, related_name="+")
    to_union = models.ForeignKey(Union, verbose_name=_("接收单位"), on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("转移原因"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    accepted = models.BooleanField(_("接收"), null=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("接收人"), on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)
    decided_at = models.DateTimeField(_("办理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("档案转移")
        verbose_name_plural = _("档案转移")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["household"], condition=Q(accepted__isnull=True),
                                    name="one_pending_transfer_per_household"),
        ]

    def __str__(self) -> str:
        return f"{self.from_union_id} → {self.to_union_id}"
