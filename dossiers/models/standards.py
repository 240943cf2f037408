"""Reference data of the household file: the local 低保 standards, and file numbers per region and year."""

from __future__ import annotations

from decimal import Decimal

import pghistory
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from hardship.models import Region


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
        return cls.in_force_on(region, [on])[on]

    @classmethod
    def in_force_on(cls, region: Region, days) -> dict:
        """in_force for each of these days, from one query (a month-by-month check asks for six)."""
        codes = [region.code, f"{region.code[:4]}00", f"{region.code[:2]}0000"]
        candidates = list(cls.objects.filter(region_id__in=codes, effective_from__lte=max(days))
                          .order_by("-effective_from"))
        found = {}
        for day in days:
            by_region = {}
            for standard in candidates:
                if standard.effective_from <= day:
                    by_region.setdefault(standard.region_id, standard)
            found[day] = next((by_region[code] for code in codes if code in by_region), None)
        return found


class FileNumberSequence(models.Model):
    """The last file number handed out per region and year."""

    prefix = models.CharField(max_length=16, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}-{self.last:06d}"

    @classmethod
    def next_number(cls, region_code: str, year: int) -> str:
        prefix = f"{region_code}-{year}"
        cls.objects.get_or_create(prefix=prefix)
        cls.objects.filter(prefix=prefix).update(last=F("last") + 1)  # row lock until commit
        return f"{prefix}-{cls.objects.get(prefix=prefix).last:06d}"
