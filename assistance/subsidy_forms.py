"""Forms of the subsidy pages. Money is a Decimal with two places; a period is a month ("2026-12")."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assistance import runs
from assistance.subsidy_models import Campaign, FundBudget, FundSource, Schedule
from dossiers.choices import Category, KeyGroup
from dossiers.forms import date_input
from hardship.models import Union

MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0.01")}


class MonthField(forms.CharField):
    widget = forms.TextInput(attrs={"type": "month", "placeholder": "2026-12", "pattern": "[0-9]{4}-[0-9]{2}"})

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        try:
            return runs.parse_period(text)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error

    def prepare_value(self, value):
        return f"{value:%Y-%m}" if isinstance(value, datetime.date) else value


class ScheduleForm(forms.ModelForm):
    first_period = MonthField(label=_("起始月份"))
    last_period = MonthField(label=_("终止月份"), required=False, help_text=_("不填则持续发放"))
    amount = forms.DecimalField(label=_("每期金额（元）"), **MONEY)

    class Meta:
        model = Schedule
        fields = ["kind", "amount", "frequency", "first_period", "last_period", "fund_source", "note"]

    def clean(self):
        data = super().clean()
        first, last = data.get("first_period"), data.get("last_period")
        if first and last and last < first:
            self.add_error("last_period", _("终止月份不能早于起始月份。"))
        if first and self.instance.pk is None and first < runs.first_of_month(timezone.localdate()):
            self.add_error("first_period", _("起始月份不能早于本月。"))
        return data


class ScheduleStatusForm(forms.Form):
    ACTIONS = [("suspended", _("暂停")), ("active", _("恢复发放")), ("ended", _("终止（从下月起）"))]
    status = forms.ChoiceField(label=_("操作"), choices=ACTIONS)
    reason = forms.CharField(label=_("原因"), max_length=200)


class RunForm(forms.Form):
    period = MonthField(label=_("发放月份"))


class HoldForm(forms.Form):
    note = forms.CharField(label=_("暂缓原因"), max_length=200)


class ResolveForm(forms.Form):
    OUTCOMES = [("", _("不改变发放结果")), ("paid", _("已到账")), ("failed", _("发放失败"))]
    resolution = forms.CharField(label=_("处理情况"), max_length=300)
    outcome = forms.ChoiceField(label=_("发放结果"), choices=OUTCOMES, required=False)


class ReturnFileForm(forms.Form):
    file = forms.FileField(label=_("银行回盘文件"), help_text=_("xlsx、xls 或 csv"))


def subtree_unions(user, *, depth: int = 1):
    """The user's union and the unions directly under it (where a supervisor sets budgets and campaigns)."""
    home = user.home_union
    return Union.objects.filter(path__startswith=home.path, depth__lte=home.depth + depth).order_by("path")


class BudgetForm(forms.ModelForm):
    amount = forms.DecimalField(label=_("预算（元）"), **MONEY)

    class Meta:
        model = FundBudget
        fields = ["union", "year", "fund_source", "amount"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["union"].queryset = subtree_unions(user, depth=2)
        self.fields["year"].initial = timezone.localdate().year

    def clean(self):
        data = super().clean()
        amount, committed = data.get("amount"), self.instance.committed or Decimal("0")
        if amount is not None and amount < committed:
            self.add_error("amount", _("预算不能少于已使用的 %(used)s 元。") % {"used": committed})
        return data


class CampaignForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(label=_("困难类别"), choices=Category.choices,
                                           widget=forms.CheckboxSelectMultiple)
    key_groups = forms.MultipleChoiceField(label=_("重点群体"), required=False, widget=forms.CheckboxSelectMultiple,
                                           choices=[c for c in KeyGroup.choices if c[0]], help_text=_("不选则不限"))

    class Meta:
        model = Campaign
        fields = ["name", "union", "starts_on", "ends_on", "categories", "key_groups", "goods", "fund_source"]
        widgets = {"starts_on": date_input(), "ends_on": date_input()}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["union"].queryset = subtree_unions(user, depth=1)
        for value, label in Category.choices:
            self.fields[f"amount_{value}"] = forms.DecimalField(
                label=_("%(category)s每户（元）") % {"category": label}, required=False, **MONEY)
        self.order_fields([*self.Meta.fields[:6], *(f"amount_{v}" for v in Category.values), "goods", "fund_source"])
        self.fields["fund_source"].choices = FundSource.choices

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("结束日期不能早于开始日期。"))
        for category in data.get("categories") or []:
            if data.get(f"amount_{category}") is None:
                self.add_error(f"amount_{category}", _("请填写所选类别每户的慰问金额。"))
        return data

    def save(self, commit=True):
        campaign = super().save(commit=False)
        campaign.amounts = {c: f"{self.cleaned_data[f'amount_{c}']:.2f}" for c in self.cleaned_data["categories"]}
        if commit:
            campaign.save()
        return campaign


class CampaignVisitForm(forms.Form):
    visited_on = forms.DateField(label=_("慰问日期"), widget=date_input())
    note = forms.CharField(label=_("慰问情况"), max_length=300)
    goods = forms.CharField(label=_("送达物资"), max_length=200, required=False)

    def clean_visited_on(self):
        day = self.cleaned_data["visited_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("慰问日期不能晚于今天。"))
        return day
