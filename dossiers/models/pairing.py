"""一帮一结对帮扶: the helpers (帮扶责任人) and their pairings with households.

The database keeps the two rules that must hold under concurrency: at most one active pairing per household
(a partial unique index) and no helper over capacity (a check on the count that dossiers.pairing keeps with a
conditional update). Pairings are written only through dossiers.pairing.
"""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.models.household import Household
from hardship.access import FileQuerySet
from hardship.models import Union

MAX_CAPACITY = 20


class HelpKind(models.TextChoices):
    """What a helper can help with; dossiers.pairing matches it against the household's causes."""

    EMPLOYMENT = "employment", _("就业创业")
    SOCIAL_INSURANCE = "social_insurance", _("社会保险")
    MEDICAL = "medical", _("医疗救助")
    EDUCATION = "education", _("子女教育")
    LEGAL = "legal", _("法律援助")
    RELIEF = "relief", _("生活救助")
    CARE = "care", _("生活照料")


class HelpingUnitKind(models.TextChoices):
    UNION = "union", _("工会组织")
    EMPLOYER = "employer", _("用人单位")
    GOVERNMENT = "government", _("党政机关")
    OTHER = "other", _("其他单位")


class HelperQuerySet(FileQuerySet):
    """Helpers are seen by those who read files, in their union subtree."""


@pghistory.track(exclude=["active_pairings"])
class Helper(models.Model):
    """A responsible person (帮扶责任人 / 结对帮扶干部), optionally also a user of the system."""

    name = models.CharField(_("姓名"), max_length=40)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("系统账号"), on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="helper_profile")
    helping_unit = models.CharField(_("帮扶单位"), max_length=100)
    unit_kind = models.CharField(_("单位类型"), max_length=16, choices=HelpingUnitKind.choices,
                                 default=HelpingUnitKind.UNION)
    union = models.ForeignKey(Union, verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="helpers")
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    capacity = models.PositiveSmallIntegerField(_("可结对户数"), default=1)
    kinds = ArrayField(models.CharField(max_length=20, choices=HelpKind.choices), verbose_name=_("帮扶专长"),
                       default=list, blank=True)
    active_pairings = models.PositiveSmallIntegerField(_("当前结对户数"), default=0, editable=False)
    is_active = models.BooleanField(_("在岗"), default=True)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, editable=False)

    objects = HelperQuerySet.as_manager()

    class Meta:
        verbose_name = _("帮扶责任人")
        verbose_name_plural = _("帮扶责任人")
        ordering = ["union__path", "name", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1, capacity__lte=MAX_CAPACITY),
                                   name="helper_capacity_range"),
            models.CheckConstraint(condition=Q(active_pairings__lte=F("capacity")), name="helper_within_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.helping_unit}）"

    @property
    def scope_union(self):
        return self.union

    @property
    def free(self) -> int:
        return max(self.capacity - self.active_pairings, 0) if self.is_active else 0

    def get_kinds_display(self) -> list[str]:
        labels = dict(HelpKind.choices)
        return [str(labels.get(kind, kind)) for kind in self.kinds]


class PairingQuerySet(FileQuerySet):
    scope_path_lookup = "household__union__path"

    def active(self):
        return self.filter(ended_on__isnull=True)


class EndReason(models.TextChoices):
    HANDOVER = "handover", _("移交接续责任人")
    LEFT_REGISTER = "left_register", _("家庭退出在档")
    TRANSFER = "transfer", _("档案转移")


@pghistory.track()
class Pairing(models.Model):
    """One helper responsible for one household from `started_on` until `ended_on` (不达目标不脱钩: it ends by a
    handover to a successor, or when the household leaves the register)."""

    household = models.ForeignKey(Household, verbose_name=_("家庭"), on_delete=models.PROTECT,
                                  related_name="pairings")
    helper = models.ForeignKey(Helper, verbose_name=_("帮扶责任人"), on_delete=models.PROTECT,
                               related_name="pairings")
    started_on = models.DateField(_("结对日期"))
    ended_on = models.DateField(_("解除日期"), null=True, blank=True)
    end_reason = models.CharField(_("解除原因"), max_length=16, choices=EndReason.choices, blank=True)
    end_note = models.TextField(_("说明"), blank=True)
    successor = models.OneToOneField("self", verbose_name=_("接续结对"), on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="predecessor")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT,
                                   related_name="+")
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("解除人"), on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+")

    objects = PairingQuerySet.as_manager()

    class Meta:
        verbose_name = _("结对帮扶")
        verbose_name_plural = _("结对帮扶")
        ordering = ["-started_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["household"], condition=Q(ended_on__isnull=True),
                                    name="one_active_pairing_per_household"),
            models.CheckConstraint(condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                                   name="pairing_ends_after_start"),
            models.CheckConstraint(condition=Q(ended_on__isnull=True, end_reason="")
                                   | (Q(ended_on__isnull=False) & ~Q(end_reason="")),
                                   name="pairing_end_has_reason"),
        ]
        indexes = [models.Index(fields=["helper"], condition=Q(ended_on__isnull=True),
                                name="pairing_active_helper_idx")]

    def __str__(self) -> str:
        return f"{self.helper.name} ↔ {self.household.file_number}"

    @property
    def scope_union(self):
        return self.household.union

    @property
    def is_active(self) -> bool:
        return self.ended_on is None
