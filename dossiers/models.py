"""The household file (一户一档): household, members, income, assessments, the register's events."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pghistory
import pgtrigger
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.choices import (
    CLOSED_STATUSES, ETHNIC_CHOICES, AreaBand, Category, Cause, Disability, Exclusion, Health, HousingType,
    KeyGroup, LegacyCategory, LegacyTier, MedicalInsurance, ModelWorker, Relationship, Sex, Status, WorkStatus,
)
from hardship import idnumbers
from hardship.access import ScopedQuerySet
from hardship.fields import EncryptedTextField
from hardship.models import Region, Union


def money(verbose_name: str, **kwargs) -> models.DecimalField:
    return models.DecimalField(
        verbose_name, max_digits=12, decimal_places=2, default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))], **kwargs,
    )


@pghistory.track()
class LocalStandard(models.Model):
    """The local 低保 line and minimum wage of a region from a date (reference data)."""

    region = models.ForeignKey(Region, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="standards")
    effective_from = models.DateField(_("起始日期"))
    poverty_line = models.DecimalField(_("城市低保标准（元/人·月）"), max_digits=8, decimal_places=2,
                                       validators=[MinValueValidator(Decimal("0.01"))])
    min_wage = models.DecimalField(_("最低工资标准（元/月）"), max_digits=8, decimal_places=2,
                                   validators=[MinValueValidator(Decimal("0.01"))])
    source = models.CharField(_("依据文件"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("低保标准")
        verbose_name_plural = _("低保标准")
        ordering = ["region", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["region", "effective_from"], name="one_standard_per_region_and_date"),
        ]

    def __str__(self) -> str:
        return f"{self.region.name} {self.effective_from:%Y-%m-%d} 起 {self.poverty_line} 元"

    @classmethod
    def in_force(cls, region: Region, on) -> LocalStandard | None:
        """The most specific standard in force: the county's, else its prefecture's, else its province's."""
        codes = [region.code, f"{region.code[:4]}00", f"{region.code[:2]}0000"]
        candidates = cls.objects.filter(region_id__in=codes, effective_from__lte=on).order_by("-effective_from")
        by_region = {}
        for standard in candidates:
            by_region.setdefault(standard.region_id, standard)
        return next((by_region[code] for code in codes if code in by_region), None)


class FileNumberSequence(models.Model):
    """The last file number handed out per region and year."""

    prefix = models.CharField(max_length=16, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    @classmethod
    def next_number(cls, region_code: str, year: int) -> str:
        prefix = f"{region_code}-{year}"
        cls.objects.get_or_create(prefix=prefix)
        cls.objects.filter(prefix=prefix).update(last=F("last") + 1)  # row lock until commit
        return f"{prefix}-{cls.objects.get(prefix=prefix).last:06d}"


class HouseholdQuerySet(ScopedQuerySet):
    scope_path_lookup = "union__path"
    SMALL_SUBTREE = 200

    def visible_to(self, user) -> HouseholdQuerySet:
        """A small subtree (a county, a help centre) is filtered by its union ids, which the
        (union, -updated_at) index serves directly; a large one by the path join."""
        from hardship.access import scope_path

        path = scope_path(user)
        if path:
            union_ids = list(Union.objects.filter(path__startswith=path).values_list("pk", flat=True)[:self.SMALL_SUBTREE + 1])
            if len(union_ids) <= self.SMALL_SUBTREE:
                return self.filter(union_id__in=union_ids)
        return super().visible_to(user)

    def open(self) -> HouseholdQuerySet:
        return self.exclude(status__in=CLOSED_STATUSES)

    def on_register(self) -> HouseholdQuerySet:
        return self.filter(status__in=(Status.REGISTERED, Status.EXIT_PROPOSED))


# Statement-level triggers: a bulk import writes one history row per household in one trigger call per
# statement, instead of one call (and one subtransaction in pghistory's context function) per row.
@pghistory.track(level=pghistory.Statement)
class Household(models.Model):
    """困难职工家庭档案: one file per household, owned by one union."""

    file_number = models.CharField(_("档案编号"), max_length=32, unique=True, editable=False)
    union = models.ForeignKey(Union, verbose_name=_("建档单位"), on_delete=models.PROTECT, related_name="households")
    region = models.ForeignKey(Region, verbose_name=_("所在地区"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT, editable=False)
    category = models.CharField(_("困难类别"), max_length=16, choices=Category.choices, blank=True, editable=False)
    category_override_reason = models.TextField(_("调整类别的理由"), blank=True, editable=False)

    # The primary worker (建档职工), copied from the member row for lists and search.
    head_name = models.CharField(_("建档职工"), max_length=64, editable=False)
    head_id_number = models.CharField(_("建档职工身份证号"), max_length=18, editable=False)

    address = models.CharField(_("家庭住址"), max_length=200)
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    housing_type = models.CharField(_("住房类型"), max_length=16, choices=HousingType.choices)
    area_band = models.CharField(_("住房面积"), max_length=16, choices=AreaBand.choices)
    single_parent = models.BooleanField(_("单亲家庭"), default=False)
    zero_employment = models.BooleanField(_("零就业家庭"), default=False)
    self_reliant = models.BooleanField(_("有自救能力"), default=False)
    model_worker = models.CharField(_("劳模"), max_length=16, choices=ModelWorker.choices, blank=True, default="")
    migrant_worker = models.BooleanField(_("农民工"), default=False)
    key_group = models.CharField(_("重点群体"), max_length=24, choices=KeyGroup.choices, blank=True, default="")
    legacy_tier = models.CharField(_("原档案级别"), max_length=16, choices=LegacyTier.choices, blank=True, default="")
    legacy_category = models.CharField(_("原困难类型"), max_length=16, choices=LegacyCategory.choices, blank=True,
                                       default="")
    receives_dibao = models.BooleanField(_("享受低保"), default=False)
    dibao_amount = models.DecimalField(_("低保金（元/月）"), max_digits=10, decimal_places=2, default=Decimal("0.00"),
                                       validators=[MinValueValidator(Decimal("0"))])
    import_batch = models.ForeignKey(
        "dossiers.ImportBatch", verbose_name=_("导入批次"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="households", editable=False,
    )
    consent_basis = models.CharField(
        _("授权与依据"), max_length=200,
        help_text=_("如：本人签字的申请书和家庭经济状况核对授权书（日期）"),
    )

    bank_name = models.CharField(_("开户银行"), max_length=64, blank=True)
    bank_branch = models.CharField(_("开户网点"), max_length=100, blank=True)
    bank_card = EncryptedTextField(_("银行卡号"), blank=True)

    main_cause = models.PositiveSmallIntegerField(_("主要致困原因"), choices=Cause.choices)
    secondary_causes = ArrayField(
        models.PositiveSmallIntegerField(choices=Cause.choices), verbose_name=_("其他致困原因"),
        default=list, blank=True, size=3,
    )
    accident = models.BooleanField(_("因突发事件、意外或重大疾病致困"), default=False)
    exclusions = ArrayField(
        models.CharField(max_length=16, choices=Exclusion.choices), verbose_name=_("排除情形"),
        default=list, blank=True,
    )

    income_wages = money(_("工资性收入"))
    income_business = money(_("经营净收入"))
    income_property = money(_("财产净收入"))
    income_transfers = money(_("转移性收入"))
    income_other = money(_("其他收入"))
    cost_illness = money(_("医疗刚性支出"))
    cost_disability = money(_("残疾刚性支出"))
    cost_schooling = money(_("教育刚性支出"))
    cost_housing = money(_("住房刚性支出"))
    cost_other = money(_("其他刚性支出"))

    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("建档人"), on_delete=models.PROTECT,
                                 related_name="+", editable=False)
    first_reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("初审人"), on_delete=models.PROTECT,
                                          related_name="+", null=True, blank=True, editable=False)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审核人"), on_delete=models.PROTECT,
                                    related_name="+", null=True, blank=True, editable=False)
    # A re-grade found at re-verification waits here for a second person to confirm it.
    pending_category = models.CharField(_("待确认的复核类别"), max_length=16, choices=Category.choices, blank=True,
                                        editable=False)
    pending_category_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("复核调整提出人"),
                                            on_delete=models.PROTECT, related_name="+", null=True, blank=True,
                                            editable=False)
    # Every transition moves it on; one that finds it moved since the user's page was loaded is refused.
    register_version = models.PositiveIntegerField(_("流转版本"), default=0, editable=False)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("录入人"), on_delete=models.PROTECT,
                                   related_name="+", editable=False)
    previous_episode = models.OneToOneField(
        "self", verbose_name=_("上一档案（返困前）"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="next_episode", editable=False,
    )
    notice_ends_on = models.DateField(_("公示截止日期"), null=True, blank=True, editable=False)
    registered_on = models.DateField(_("入档日期"), null=True, blank=True, editable=False)
    reverify_due = models.DateField(_("下次复核日期"), null=True, blank=True, editable=False, db_index=True)
    closed_on = models.DateField(_("退出日期"), null=True, blank=True, editable=False)
    follow_up_until = models.DateField(_("防返困跟踪至"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("建档时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = HouseholdQuerySet.as_manager()

    INCOME_FIELDS = ("income_wages", "income_business", "income_property", "income_transfers", "income_other")
    COST_FIELDS = ("cost_illness", "cost_disability", "cost_schooling", "cost_housing", "cost_other")

    class Meta:
        verbose_name = _("困难职工家庭档案")
        verbose_name_plural = _("困难职工家庭档案")
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["union", "status", "-updated_at"], name="household_union_status_idx"),
            models.Index(fields=["status", "-updated_at"], name="household_status_idx"),
            models.Index(fields=["-updated_at", "-id"], name="household_recent_idx"),
            models.Index(fields=["union", "-updated_at", "-id"], name="household_union_recent_idx"),
            models.Index(fields=["head_name"], name="household_head_name_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["head_id_number"], name="household_head_id_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(main_cause__gte=1, main_cause__lte=10), name="main_cause_is_a_code"),
            models.CheckConstraint(
                condition=Q(secondary_causes__len__lte=3), name="at_most_three_secondary_causes",
            ),
        ]
        permissions = [
            ("reveal_id_number", _("查看完整身份证号")),
            ("export_household", _("导出档案")),
        ]

    def __str__(self) -> str:
        return f"{self.file_number} {self.head_name}"

    @property
    def scope_union(self) -> Union:
        return self.union

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def is_editable(self) -> bool:
        from dossiers.choices import EDITABLE_STATUSES

        return self.status in EDITABLE_STATUSES

    @property
    def masked_head_id(self) -> str:
        return idnumbers.mask(self.head_id_number)

    @property
    def masked_bank_card(self) -> str:
        return f"**** {self.bank_card[-4:]}" if self.bank_card else ""

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        causes = list(self.secondary_causes or [])
        if len(causes) > 3:
            raise ValidationError({"secondary_causes": _("其他致困原因最多选三项。")})
        if len(set(causes)) != len(causes):
            raise ValidationError({"secondary_causes": _("其他致困原因不能重复。")})
        if self.main_cause in causes:
            raise ValidationError({"secondary_causes": _("主要致困原因不能同时作为其他致困原因。")})

    def secondary_cause_labels(self) -> list[str]:
        return [Cause(code).label for code in self.secondary_causes]


class MemberQuerySet(ScopedQuerySet):
    scope_path_lookup = "household__union__path"


@pghistory.track(level=pghistory.Statement)
class Member(models.Model):
    """A person of the household; exactly one is the primary worker (建档职工)."""

    household = models.ForeignKey(Household, verbose_name=_("家庭"), on_delete=models.CASCADE, related_name="members")
    is_primary = models.BooleanField(_("建档职工"), default=False)
    # Copied from the household: a person may be in at most one open household (partial unique index).
    is_open = models.BooleanField(default=True, editable=False)
    name = models.CharField(_("姓名"), max_length=64)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    ethnicity = models.CharField(_("民族"), max_length=16, choices=ETHNIC_CHOICES, default="汉族")
    relationship = models.CharField(_("与建档职工关系"), max_length=16, choices=Relationship.choices)
    id_number = models.CharField(_("身份证号"), max_length=18)
    birth_date = models.DateField(_("出生日期"))
    health = models.CharField(_("健康状况"), max_length=16, choices=Health.choices, default=Health.HEALTHY)
    disability = models.CharField(_("残疾类别"), max_length=16, choices=Disability.choices, blank=True, default="")
    health_notes = EncryptedTextField(_("病情说明"), blank=True)
    medical_insurance = models.CharField(_("医疗保险"), max_length=16, choices=MedicalInsurance.choices)
    work_status = models.CharField(_("就业状况"), max_length=16, choices=WorkStatus.choices)
    able_to_work = models.BooleanField(_("有劳动能力"), default=True)
    employer = models.CharField(_("工作单位或学校"), max_length=128, blank=True)
    monthly_income = models.DecimalField(_("月收入（元）"), max_digits=10, decimal_places=2, default=Decimal("0.00"),
                                         validators=[MinValueValidator(Decimal("0"))])

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["-is_primary", "pk"]
        indexes = [
            models.Index(fields=["id_number"], name="member_id_number_idx"),
            models.Index(fields=["name"], name="member_name_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"], condition=Q(is_open=True), name="person_in_one_open_household",
                violation_error_message=_("此人已是另一户在档（或办理中）家庭的成员。"),
            ),
            models.UniqueConstraint(
                fields=["household"], condition=Q(is_primary=True), name="one_primary_worker_per_household",
            ),
            models.UniqueConstraint(fields=["household", "id_number"], name="member_once_per_household"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_union(self) -> Union:
        return self.household.union

    @property
    def masked_id_number(self) -> str:
        return idnumbers.mask(self.id_number)


class AssessmentQuerySet(ScopedQuerySet):
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


class RegisterEventQuerySet(ScopedQuerySet):
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

    @property
    def label(self) -> str:
        from dossiers.register import event_label

        return event_label(self.transition)

    class Meta:
        verbose_name = _("档案流转记录")
        verbose_name_plural = _("档案流转记录")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["household", "-at"], name="register_event_household_idx")]


@pghistory.track()
class Visit(models.Model):
    """A home visit (入户调查) or a later follow-up visit."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="visits")
    visited_on = models.DateField(_("走访日期"))
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("走访人"), on_delete=models.PROTECT,
                                related_name="+")
    companions = models.CharField(_("同行人员"), max_length=200, blank=True)
    findings = models.TextField(_("走访情况"))
    signed_application = models.BooleanField(_("已收到本人签字的申请书"), default=False)
    finance_authorisation = models.BooleanField(_("已收到家庭经济状况核对授权书"), default=False)
    is_initial = models.BooleanField(_("建档入户调查"), default=False)

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_on", "-pk"]


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


from dossiers.legacy.models import CivilRoster, CivilRosterEntry, ImportBatch  # noqa: E402  (registers the models)
