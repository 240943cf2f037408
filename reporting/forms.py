"""The auditor's filters: who, what kind of record, which Beijing dates."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hardship.models import AccessRecord
from reporting.audit import KINDS, Filters, users_named
from reporting.models import ExitTarget


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class AuditFilterForm(forms.Form):
    who = forms.CharField(label=_("操作人"), required=False, max_length=150,
                          widget=forms.TextInput(attrs={"placeholder": _("用户名或姓名")}))
    kind = forms.ChoiceField(label=_("类别"), required=False, choices=[("", _("全部")), *KINDS.items()])
    action = forms.ChoiceField(label=_("操作"), required=False, choices=[("", _("全部")), *AccessRecord.Action.choices])
    date_from = forms.DateField(label=_("起始日期"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("截止日期"), required=False, widget=DateInput())

    def clean(self) -> dict:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("截止日期不能早于起始日期。"))
        return data

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(users=users_named(data["who"]) if data.get("who") else None, kind=data.get("kind") or "",
                       date_from=data.get("date_from"), date_to=data.get("date_to"), action=data.get("action") or "")


MIN_YEAR = 2015  # the campaign's baseline (seed 004)


def year_of(text: str | None, today, *, default: int | None = None) -> int:
    """A year from the query string, within the campaign's years and the next ten; otherwise the default."""
    fallback = default or today.year
    try:
        year = int(text or fallback)
    except ValueError:
        return fallback
    return year if MIN_YEAR <= year <= today.year + 10 else fallback


class TargetForm(forms.Form):
    """One number per union: how many households are to exit in the year; blank for no target."""

    def __init__(self, *args, unions, year: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.unions, self.year = unions, year
        current = dict(ExitTarget.objects.filter(union__in=unions, year=year).values_list("union_id", "households"))
        self.current = current
        for union in unions:
            self.fields[f"u{union.pk}"] = forms.IntegerField(
                label=union.name, required=False, min_value=0, max_value=10_000_000, initial=current.get(union.pk),
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "number-input"}))

    def save(self, user) -> int:
        """Writes what changed (a blank removes the target); returns how many targets changed."""
        changed = 0
        for union in self.unions:
            value, old = self.cleaned_data.get(f"u{union.pk}"), self.current.get(union.pk)
            if value == old:
                continue
            changed += 1
            if value is None:
                ExitTarget.objects.filter(union=union, year=self.year).delete()
            else:
                ExitTarget.objects.update_or_create(union=union, year=self.year, defaults={
                    "households": value, "set_by": user, "set_at": timezone.now()})
        return changed
