"""Targets per union and year, the maintained counts behind the dashboards, and their monthly snapshots.

The counts are kept by PostgreSQL triggers (migration 0002, explained in reporting/figures.py): every statement
that changes a household, its pairing, plan, measures, assessments or payments refreshes that household's row of
HouseholdFigures, and every change of such a row appends what it adds and takes away, at its union and at each
union above it, to FigureDelta. A fold (a Celery beat job each minute) moves the deltas into FigureCount. A
dashboard reads both: exact as soon as the change commits, and a few hundred rows per union whatever the size of
the register.
"""

import pghistory
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class HouseholdFigures(models.Model):
    """What one household adds to the counts: its own columns and what its pairing, plan, measures, assessments
    and payments say of it. Written only by the triggers; never edited."""

    household = models.OneToOneField("dossiers.Household", on_delete=models.DO_NOTHING, primary_key=True,
                                     db_constraint=False, related_name="+")
    union = models.ForeignKey("hardship.Union", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    status = models.CharField(max_length=16)
    category = models.CharField(max_length=16, blank=True)
    main_cause = models.PositiveSmallIntegerField()
    key_group = models.CharField(max_length=24, blank=True)
    below_line = models.BooleanField(default=False)
    paired = models.BooleanField(default=False)
    has_plan = models.BooleanField(default=False)
    planned_year = models.PositiveSmallIntegerField(null=True)
    measures = models.JSONField(default=dict)  # {"employment:done": 2, …}: batch and status → count
    paid = models.BooleanField(default=False)
    reverify_due = models.DateField(null=True)
    changed_on = models.DateField()
    closed_on = models.DateField(null=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.household_id}"


class FigureRow(models.Model):
    """Households (or payments) of a union's subtree with one figure's value, and their amount where money."""

    figure = models.CharField(max_length=16)
    value = models.CharField(max_length=32, blank=True)
    n = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        abstract = True
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.union_id} {self.figure}:{self.value} {self.n}"


class FigureCount(FigureRow):
    """A folded count, one per union, figure and value (the unique index serves every read by union)."""

    union = models.ForeignKey("hardship.Union", on_delete=models.CASCADE, db_constraint=False, related_name="+",
                              db_index=False)

    class Meta(FigureRow.Meta):
        constraints = [models.UniqueConstraint(fields=["union", "figure", "value"], name="one_count_per_figure")]


class FigureDelta(FigureRow):
    """A change to a count not yet folded into FigureCount: appended, never updated, so that concurrent
    transactions never wait for each other's counts nor lose one."""

    union = models.ForeignKey("hardship.Union", on_delete=models.CASCADE, db_constraint=False, related_name="+")


@pghistory.track()
class ExitTarget(models.Model):
    """目标任务: how many households of a union's subtree are to exit hardship (脱困 or 解困) in a year."""

    union = models.ForeignKey("hardship.Union", verbose_name=_("单位"), on_delete=models.PROTECT,
                              related_name="exit_targets")
    year = models.PositiveSmallIntegerField(_("年度"), validators=[MinValueValidator(2015), MaxValueValidator(2100)])
    households = models.PositiveIntegerField(_("目标脱困户数"), validators=[MaxValueValidator(10_000_000)])
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("设定人"), on_delete=models.PROTECT,
                               related_name="+")
    set_at = models.DateTimeField(_("设定时间"), default=timezone.now)

    class Meta:
        verbose_name = _("脱困目标")
        verbose_name_plural = _("脱困目标")
        ordering = ["union__path", "year"]
        constraints = [models.UniqueConstraint(fields=["union", "year"], name="one_target_per_union_and_year")]

    def __str__(self) -> str:
        return f"{self.union} {self.year}: {self.households}"


class Snapshot(models.Model):
    """A union's figures at the end of a month (the last run of the month's job wins): the trend lines."""

    union = models.ForeignKey("hardship.Union", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first of the month
    on_register = models.PositiveIntegerField(default=0)
    exited = models.PositiveIntegerField(default=0)  # 脱困 and 解困, all years up to the month
    removed = models.PositiveIntegerField(default=0)  # 注销, all years up to the month
    figures = models.JSONField(default=dict)  # every count of the month: {"category:deep": 12, …}
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()
        ordering = ["union", "month"]
        constraints = [models.UniqueConstraint(fields=["union", "month"], name="one_snapshot_per_union_and_month")]

    def __str__(self) -> str:
        return f"{self.union_id} {self.month:%Y-%m}"

    @property
    def filed(self) -> int:
        return self.on_register + self.exited + self.removed
