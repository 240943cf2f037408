"""The household file (一户一档) and its members: one open file per person."""

from __future__ import annotations

from decimal import Decimal

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.choices import (
    CLOSED_STATUSES,
    ETHNIC_CHOICES,
    AreaBand,
    Category,
    Cause,
    Disability,
    Exclusion,
    Health,
    HousingType,
    KeyGroup,
    LegacyCategory,
    LegacyTier,
    MedicalInsurance,
    ModelWorker,
    Relationship,
    Sex,
    Status,
    WorkStatus,
)
from dossiers.models.standards import money
from hardship import idnumbers
from hardship.access import FileQuerySet
from hardship.fields import EncryptedTextField, IdDigestField, IdNumberField
from hardship.models import Region, Union


class HouseholdQuerySet(FileQuerySet):
    scope_path_lookup = "union__path"
    SMALL_SUBTREE = 200

    def visible_to(self, user) -> HouseholdQuerySet:
        """A small subtree (a county, a help centre) is filtered by its union ids, which the
        (union, -updated_at) index serves directly; the whole tree (the national union) needs no
        condition at all; any other large one is filtered by the path join."""
        from hardship.access import reads_files, scope_path

        path = scope_path(user)
        if path and reads_files(user):
            union_ids = list(Union.objects.filter(path__startswith=path)
                             .values_list("pk", flat=True)[:self.SMALL_SUBTREE + 1])
            if len(union_ids) <= self.SMALL_SUBTREE:
                return self.filter(union_id__in=union_ids)
            if list(Union.objects.filter(parent=None).values_list("path", flat=True)[:2]) == [path]:
                return self.all()
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
    head_id_number = IdNumberField(_("建档职工身份证号"), editable=False)
    head_id_number_digest = IdDigestField()

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
            models.Index(fields=["head_id_number_digest"], name="household_head_id_idx"),
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


class MemberQuerySet(FileQuerySet):
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
    id_number = IdNumberField(_("身份证号"))
    id_number_digest = IdDigestField()
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
            models.Index(fields=["id_number_digest"], name="member_id_number_idx"),
            # Covering: a name search reads the household ids from the index alone (an index-only scan).
            models.Index(fields=["name"], include=["household"], name="member_name_household_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_digest"], condition=Q(is_open=True), name="person_in_one_open_household",
                violation_error_message=_("此人已是另一户在档（或办理中）家庭的成员。"),
            ),
            models.UniqueConstraint(
                fields=["household"], condition=Q(is_primary=True), name="one_primary_worker_per_household",
            ),
            models.UniqueConstraint(fields=["household", "id_number_digest"], name="member_once_per_household"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_union(self) -> Union:
        return self.household.union

    @property
    def masked_id_number(self) -> str:
        return idnumbers.mask(self.id_number)
