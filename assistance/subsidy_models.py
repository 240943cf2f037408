"""Regular living subsidies and one-off aid: schedules, fund budgets, payment batches and payments, the bank's
return files and what did not match, and 送温暖 campaigns.

Money is exactly-once by the database: a payment is unique per (schedule, period) and per (campaign, household),
a failed one can be re-issued once (a unique link to the original), and every status change is a conditional
update (assistance/batches.py). Periods are the first day of their month.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hardship.access import FileQuerySet, ScopedQuerySet
from hardship.fields import EncryptedTextField


class SubsidyKind(models.TextChoices):
    LIVING = "living", _("生活补贴")
    MEDICAL = "medical", _("医疗救助")
    SCHOOLING = "schooling", _("助学")
    RELIEF = "relief", _("临时救助")
    WARMTH = "warmth", _("送温暖慰问")


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("按月")
    QUARTERLY = "quarterly", _("按季度")
    ONCE = "once", _("一次性")


class FundSource(models.TextChoices):
    CENTRAL = "central", _("中央财政专项帮扶资金")
    LOCAL = "local", _("地方政府资金")
    UNION = "union", _("工会经费")
    DONATION = "donation", _("社会捐赠")


def yuan(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2,
                               validators=[MinValueValidator(Decimal("0.01"))], **kwargs)


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


class ScheduleQuerySet(FileQuerySet):
    scope_path_lookup = "household__union__path"


@pghistory.track()
class Schedule(models.Model):
    """A household's subsidy: so much, so often, from this period to that one, from this fund."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("发放中")
        SUSPENDED = "suspended", _("暂停")
        ENDED = "ended", _("已终止")

    household = models.ForeignKey("dossiers.Household", verbose_name=_("家庭"), on_delete=models.PROTECT,
                                  related_name="subsidy_schedules")
    # The union that pays: the household's when the schedule was set up (a transfer ends the schedule).
    union = models.ForeignKey("hardship.Union", verbose_name=_("发放单位"), on_delete=models.PROTECT,
                              related_name="+", editable=False)
    kind = models.CharField(_("补助类别"), max_length=16, choices=SubsidyKind.choices, default=SubsidyKind.LIVING)
    amount = yuan(_("每期金额（元）"))
    frequency = models.CharField(_("发放周期"), max_length=16, choices=Frequency.choices, default=Frequency.MONTHLY)
    first_period = models.DateField(_("起始月份"))
    last_period = models.DateField(_("终止月份"), null=True, blank=True, help_text=_("不填则持续发放"))
    fund_source = models.CharField(_("资金来源"), max_length=16, choices=FundSource.choices)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审批人"), on_delete=models.PROTECT,
                                    related_name="+")
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE,
                              editable=False)
    status_reason = models.CharField(_("暂停或终止原因"), max_length=200, blank=True, editable=False)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, editable=False)

    objects = ScheduleQuerySet.as_manager()

    class Meta:
        verbose_name = _("补助计划")
        verbose_name_plural = _("补助计划")
        ordering = ["-first_period", "pk"]
        indexes = [models.Index(fields=["union", "first_period"], name="schedule_union_idx",
                                condition=~Q(status="ended"))]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="schedule_amount_positive"),
            models.CheckConstraint(condition=Q(first_period__day=1), name="schedule_first_period_is_a_month"),
            # A schedule ended before its first period ends the month before it (and never pays).
            models.CheckConstraint(condition=Q(last_period__isnull=True) | Q(last_period__day=1) & Q(
                last_period__gte=models.F("first_period") - datetime.timedelta(days=31)),
                name="schedule_last_period_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} 元/{self.get_frequency_display()}"

    @property
    def scope_union(self):
        return self.household.union


class BudgetQuerySet(ScopedQuerySet):
    pass


@pghistory.track()
class FundBudget(models.Model):
    """What a union may spend in a year from one fund source; `committed` is what approved batches took from it
    (less what failed), kept under the row's lock by assistance/batches.py."""

    union = models.ForeignKey("hardship.Union", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    fund_source = models.CharField(_("资金来源"), max_length=16, choices=FundSource.choices)
    amount = yuan(_("预算（元）"))
    committed = models.DecimalField(_("已使用（元）"), max_digits=14, decimal_places=2, default=Decimal("0.00"),
                                    editable=False)

    objects = BudgetQuerySet.as_manager()

    class Meta:
        verbose_name = _("资金预算")
        verbose_name_plural = _("资金预算")
        ordering = ["-year", "union", "fund_source"]
        constraints = [
            models.UniqueConstraint(fields=["union", "year", "fund_source"], name="one_budget_per_union_year_source"),
            models.CheckConstraint(condition=Q(committed__lte=models.F("amount")), name="budget_not_overspent"),
            models.CheckConstraint(condition=Q(committed__gte=0), name="budget_committed_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.union} {self.year} {self.get_fund_source_display()} {self.amount}"

    @property
    def scope_union(self):
        return self.union

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.committed


class CampaignQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """The campaigns of the user's subtree and those of the unions above it, which reach into it."""
        from hardship.access import scope_path

        path = scope_path(user)
        if path is None:
            return self.none()
        if not path:
            return self
        above = [path[:index + 1] for index, char in enumerate(path) if char == "/"][1:]
        return self.filter(Q(union__path__startswith=path) | Q(union__path__in=above))


@pghistory.track()
class Campaign(models.Model):
    """送温暖: a one-off payment (and a visit) to the households of a subtree, by category and key group."""

    name = models.CharField(_("活动名称"), max_length=100)
    union = models.ForeignKey("hardship.Union", verbose_name=_("覆盖范围"), on_delete=models.PROTECT,
                              related_name="+", help_text=_("本单位及下级单位的在档家庭"))
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    categories = ArrayField(models.CharField(max_length=16), verbose_name=_("困难类别"))
    key_groups = ArrayField(models.CharField(max_length=24), verbose_name=_("重点群体"), blank=True, default=list,
                            help_text=_("不选则不限"))
    # {category: "800.00"}: the amount each household of that category receives (strings: exact decimals).
    amounts = models.JSONField(_("慰问金额"))
    goods = models.CharField(_("慰问物资"), max_length=200, blank=True)
    fund_source = models.CharField(_("资金来源"), max_length=16, choices=FundSource.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发起人"), on_delete=models.PROTECT,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(_("发起时间"), default=timezone.now, editable=False)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("送温暖活动")
        verbose_name_plural = _("送温暖活动")
        ordering = ["-starts_on", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")),
                                              name="campaign_dates_in_order")]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_union(self):
        return self.union

    @property
    def period(self) -> datetime.date:
        return first_of_month(self.starts_on)


class BatchQuerySet(FileQuerySet):
    scope_path_lookup = "union__path"


@pghistory.track()
class PaymentBatch(models.Model):
    """One union's payments of one period (or of one campaign): DRAFT → APPROVED → SENT → CLOSED."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("待审批")
        APPROVED = "approved", _("已审批")
        SENT = "sent", _("已报送银行")
        CLOSED = "closed", _("已结清")

    union = models.ForeignKey("hardship.Union", verbose_name=_("发放单位"), on_delete=models.PROTECT,
                              related_name="payment_batches")
    period = models.DateField(_("发放月份"))
    campaign = models.ForeignKey(Campaign, verbose_name=_("送温暖活动"), on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="batches")
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    total = models.DecimalField(_("合计（元）"), max_digits=14, decimal_places=2, default=Decimal("0.00"))
    count = models.PositiveIntegerField(_("笔数"), default=0)
    version = models.PositiveIntegerField(_("版本"), default=0)
    # Who generated or edited it (user ids): none of them may approve it. A run by the beat has no maker.
    makers = ArrayField(models.BigIntegerField(), default=list, editable=False)
    generated_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审批人"), on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("报送人"), on_delete=models.PROTECT,
                                null=True, blank=True, related_name="+")
    sent_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结清时间"), null=True, blank=True)

    objects = BatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("发放批次")
        verbose_name_plural = _("发放批次")
        ordering = ["-period", "union", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["union", "period"], condition=Q(campaign__isnull=True),
                                    name="one_regular_batch_per_union_and_period"),
            models.UniqueConstraint(fields=["union", "campaign"], condition=Q(campaign__isnull=False),
                                    name="one_campaign_batch_per_union"),
            models.CheckConstraint(condition=Q(period__day=1), name="batch_period_is_a_month"),
            models.CheckConstraint(condition=Q(total__gte=0), name="batch_total_not_negative"),
        ]

    def __str__(self) -> str:
        what = self.campaign.name if self.campaign_id else f"{self.period:%Y-%m}"
        return f"{self.union.name} {what}"

    @property
    def scope_union(self):
        return self.union


class PaymentQuerySet(FileQuerySet):
    scope_path_lookup = "batch__union__path"


# Created set-based with their batch (assistance/runs.py; the batch's history records who and when); every later
# change and deletion is in the history, one statement-level trigger per statement rather than one per row.
@pghistory.track(pghistory.UpdateEvent(), pghistory.DeleteEvent(), level=pghistory.Statement, exclude=["account"])
class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待发放")
        SENT = "sent", _("已报送")
        PAID = "paid", _("已到账")
        FAILED = "failed", _("发放失败")

    # A million payments a month: no single-column index where a wider one below serves (each index is written for
    # every row of a run; bench/RESULTS.md).
    batch = models.ForeignKey(PaymentBatch, verbose_name=_("发放批次"), on_delete=models.PROTECT,
                              related_name="payments", db_index=False)
    household = models.ForeignKey("dossiers.Household", verbose_name=_("家庭"), on_delete=models.PROTECT,
                                  related_name="payments", db_index=False)
    schedule = models.ForeignKey(Schedule, verbose_name=_("补助计划"), on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="payments", db_index=False)
    campaign = models.ForeignKey(Campaign, verbose_name=_("送温暖活动"), on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="payments", db_index=False)
    kind = models.CharField(_("补助类别"), max_length=16, choices=SubsidyKind.choices)
    period = models.DateField(_("所属月份"))
    amount = yuan(_("金额（元）"))
    fund_source = models.CharField(_("资金来源"), max_length=16, choices=FundSource.choices)
    account_name = models.CharField(_("户名"), max_length=64)
    bank_name = models.CharField(_("开户银行"), max_length=64, blank=True)
    account = EncryptedTextField(_("银行卡号"))
    memo = models.CharField(_("摘要"), max_length=100)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(_("失败原因"), max_length=200, blank=True)
    reissue_of = models.ForeignKey("self", verbose_name=_("补发自"), on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="reissue", db_index=False)
    settled_at = models.DateTimeField(_("到账或退回时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("发放明细")
        verbose_name_plural = _("发放明细")
        ordering = ["batch", "pk"]
        indexes = [
            models.Index(fields=["household", "-period"], name="payment_household_idx"),
            models.Index(fields=["batch", "status"], name="payment_batch_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "period"],
                                    condition=Q(schedule__isnull=False, reissue_of__isnull=True),
                                    name="one_payment_per_schedule_and_period"),
            models.UniqueConstraint(fields=["campaign", "household"],
                                    condition=Q(campaign__isnull=False, reissue_of__isnull=True),
                                    name="one_payment_per_campaign_and_household"),
            # Re-issued once: unique among the payments that are re-issues (a partial index of those alone).
            models.UniqueConstraint(fields=["reissue_of"], condition=Q(reissue_of__isnull=False),
                                    name="one_reissue_per_payment"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(schedule__isnull=False) | Q(campaign__isnull=False),
                                   name="payment_has_a_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.account_name} {self.amount} 元 {self.get_status_display()}"

    @property
    def scope_union(self):
        return self.batch.union


class SkipReason(models.TextChoices):
    LEFT_REGISTER = "left_register", _("家庭已不在档")
    SUSPENDED = "suspended", _("补助已暂停")
    ENDED = "ended", _("补助已终止")
    OVER_CAP = "over_cap", _("超过年度生活救助上限")
    NO_BANK_CARD = "no_bank_card", _("未登记银行卡")
    HELD = "held", _("审批人暂缓发放")


class SkippedSchedule(models.Model):
    """What a run looked at and did not pay, and why: a schedule (regular batches) or a household (campaigns).
    Recomputed by each run of the batch; HELD is an approver's decision and stays until released."""

    batch = models.ForeignKey(PaymentBatch, on_delete=models.CASCADE, related_name="skipped")
    household = models.ForeignKey("dossiers.Household", on_delete=models.CASCADE, related_name="+")
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    reason = models.CharField(_("未发原因"), max_length=16, choices=SkipReason.choices)
    exceeds_by = models.DecimalField(_("超出金额（元）"), max_digits=12, decimal_places=2, null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["reason", "household"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "schedule"], condition=Q(schedule__isnull=False),
                                    name="one_skip_per_batch_schedule"),
            models.UniqueConstraint(fields=["batch", "household"], condition=Q(schedule__isnull=True),
                                    name="one_skip_per_batch_household"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.household_id}"


class LivingAidYear(models.Model):
    """The living aid a household has been paid or promised in a year (pending, sent and paid living payments),
    kept by a statement-level trigger on the payments (migration 0005), so that the yearly cap is checked
    against one row instead of a year of payments."""

    household = models.ForeignKey("dossiers.Household", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["household", "year"], name="one_living_total_per_year")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.year} {self.amount}"


class BankReturn(models.Model):
    """A return file (回盘文件) recorded against a sent batch: only its counts are kept, not the file."""

    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="returns")
    filename = models.CharField(_("文件名"), max_length=200)
    lines = models.PositiveIntegerField(_("明细行数"))
    paid = models.PositiveIntegerField(_("到账"))
    failed = models.PositiveIntegerField(_("失败"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("导入人"), on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(_("导入时间"), default=timezone.now)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return self.filename


@pghistory.track()
class Discrepancy(models.Model):
    """A line of a return file that does not match the batch, or a batch line the bank did not return: the batch
    stays open until each is resolved."""

    class Kind(models.TextChoices):
        UNKNOWN_ACCOUNT = "unknown_account", _("账号不在本批次")
        AMOUNT_MISMATCH = "amount_mismatch", _("金额不符")
        MISSING_LINE = "missing_line", _("银行未返回")
        DUPLICATE_LINE = "duplicate_line", _("重复返回")

    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="discrepancies")
    bank_return = models.ForeignKey(BankReturn, on_delete=models.PROTECT, related_name="discrepancies")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    line = models.PositiveIntegerField(_("行号"), null=True, blank=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    account_masked = models.CharField(_("账号"), max_length=40, blank=True)
    returned_amount = models.DecimalField(_("银行金额（元）"), max_digits=12, decimal_places=2, null=True,
                                          blank=True)
    detail = models.CharField(_("说明"), max_length=300, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("处理人"), on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    resolution = models.CharField(_("处理说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("对账差异")
        verbose_name_plural = _("对账差异")
        ordering = ["resolved_at", "line", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.account_masked}"

    @property
    def scope_union(self):
        return self.batch.union


class CampaignVisitQuerySet(FileQuerySet):
    scope_path_lookup = "household__union__path"


@pghistory.track()
class CampaignVisit(models.Model):
    """A 慰问 visit of a campaign to a household, once per campaign and household."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("送温暖活动"), on_delete=models.PROTECT,
                                 related_name="visits")
    household = models.ForeignKey("dossiers.Household", verbose_name=_("家庭"), on_delete=models.PROTECT,
                                  related_name="campaign_visits")
    visited_on = models.DateField(_("慰问日期"))
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT,
                                related_name="+")
    helper = models.ForeignKey("dossiers.Helper", verbose_name=_("帮扶责任人"), on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+")
    goods = models.CharField(_("送达物资"), max_length=200, blank=True)
    note = models.CharField(_("慰问情况"), max_length=300)

    objects = CampaignVisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("慰问走访")
        verbose_name_plural = _("慰问走访")
        ordering = ["-visited_on", "-pk"]
        constraints = [models.UniqueConstraint(fields=["campaign", "household"], name="one_visit_per_campaign")]

    def __str__(self) -> str:
        return f"{self.campaign} {self.visited_on:%Y-%m-%d}"

    @property
    def scope_union(self):
        return self.household.union
