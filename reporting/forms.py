"""The auditor's filters: who, what kind of record, which Beijing dates."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hardship.models import AccessRecord
from reporting.audit import KINDS, Filters, users_named


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
