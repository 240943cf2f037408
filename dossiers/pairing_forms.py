"""The forms of 一帮一结对帮扶 and of follow-up visits (走访)."""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.forms import date_input
from dossiers.models import Helper, HelpKind, Visit
from hardship.models import Union, User

PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


class HelperForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(label=_("帮扶专长"), choices=HelpKind.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Helper
        fields = ["name", "user", "helping_unit", "unit_kind", "union", "phone", "capacity", "kinds", "is_active"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["union"].queryset = Union.objects.visible_to(user).order_by("path")
        # A helper who also signs in: a user of the subtree (one account is one helper at most).
        self.fields["user"].queryset = User.objects.filter(
            is_active=True, home_union__in=Union.objects.visible_to(user)).order_by("username")
        self.fields["user"].help_text = _("帮扶责任人本人也使用本系统时选择其账号（可不填）。")
        self.fields["capacity"].help_text = _("一名责任人通常结对一户；本单位允许时可多于一户（最多 20 户）。")

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip().replace(" ", "")
        if phone and not PHONE.match(phone):
            raise forms.ValidationError(_("请填写 11 位手机号或带区号的固定电话。"))
        return phone

    def clean_capacity(self) -> int:
        capacity = self.cleaned_data["capacity"]
        if self.instance.pk and capacity < self.instance.active_pairings:
            raise forms.ValidationError(_("已结对 %(count)d 户，可结对户数不能少于此数。")
                                        % {"count": self.instance.active_pairings})
        return capacity


class PairForm(forms.Form):
    helper = forms.ModelChoiceField(label=_("帮扶责任人"), queryset=Helper.objects.none())

    def __init__(self, *args, helpers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["helper"].queryset = helpers


class HandoverForm(PairForm):
    note = forms.CharField(label=_("移交原因"), widget=forms.Textarea(attrs={"rows": 2}), max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["helper"].label = _("接续责任人")


class VisitForm(forms.ModelForm):
    class Meta:
        model = Visit
        fields = ["visited_on", "kind", "helper", "companions", "findings", "agreed", "follow_up"]
        widgets = {"visited_on": date_input(),
                   "findings": forms.Textarea(attrs={"rows": 3}), "agreed": forms.Textarea(attrs={"rows": 2}),
                   "follow_up": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, helpers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["helper"].queryset = helpers
        self.fields["visited_on"].initial = timezone.localdate()

    def clean_visited_on(self):
        visited_on = self.cleaned_data["visited_on"]
        if visited_on > timezone.localdate():
            raise forms.ValidationError(_("走访日期不能晚于今天。"))
        return visited_on
