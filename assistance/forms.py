from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assistance.models import Batch, Measure, MeasureType, Plan
from dossiers.forms import date_input


class PlanForm(forms.ModelForm):
    class Meta:
        model = Plan
        fields = ["goal", "target_year", "deadline", "responsible"]
        widgets = {
            "goal": forms.Textarea(attrs={"rows": 3}),
            "deadline": date_input(),
        }

    def clean(self):
        data = super().clean()
        year, deadline = data.get("target_year"), data.get("deadline")
        if year and deadline and deadline.year != year:
            self.add_error("deadline", _("计划脱困日期应在计划脱困年度（%(year)s 年）内。") % {"year": year})
        if deadline and not self.instance.pk and deadline < timezone.localdate():
            self.add_error("deadline", _("计划脱困日期不能早于今天。"))
        return data


def grouped_types(selected: MeasureType | None = None) -> list:
    """The active measure types, grouped by batch (and a switched-off one a measure already has)."""
    types = MeasureType.objects.filter(active=True)
    if selected is not None:
        types = types | MeasureType.objects.filter(pk=selected.pk)
    groups: dict[str, list] = {}
    for measure_type in types.order_by("batch", "position", "pk"):
        groups.setdefault(measure_type.batch, []).append((measure_type.pk, measure_type.label))
    return [("", "---------")] + [(Batch(batch).label, choices) for batch, choices in groups.items()]


class MeasureForm(forms.ModelForm):
    class Meta:
        model = Measure
        fields = ["measure_type", "description", "responsible", "due_on", "status", "outcome", "amount",
                  "monthly_income", "evidence"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "outcome": forms.Textarea(attrs={"rows": 2}),
            "evidence": forms.Textarea(attrs={"rows": 2}),
            "due_on": date_input(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.measure_type if self.instance.pk else None
        self.fields["measure_type"].choices = grouped_types(current)
        self.fields["measure_type"].queryset = MeasureType.objects.filter(
            pk__in=[pk for _group, choices in grouped_types(current)[1:] for pk, _label in choices])

    def clean(self):
        data = super().clean()
        status = data.get("status")
        if status in (Measure.Status.DONE, Measure.Status.FAILED) and not (data.get("outcome") or "").strip():
            self.add_error("outcome", _("已完成或未能落实的措施请写明落实情况。"))
        return data
