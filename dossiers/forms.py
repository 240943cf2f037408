"""Forms of the household file: the household with its members in one form, search, transitions."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils.translation import gettext_lazy as _

from dossiers.choices import Category, Cause, Exclusion, KeyGroup, Status
from dossiers.models import Household, Member
from hardship import idnumbers
from hardship.models import Union


def date_input() -> forms.DateInput:
    # The browser's date picker reads and writes ISO dates, whatever the interface language.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


MONEY_FIELDS = [*Household.INCOME_FIELDS, *Household.COST_FIELDS]


class HouseholdForm(forms.ModelForm):
    secondary_causes = forms.TypedMultipleChoiceField(
        label=_("其他致困原因（最多三项）"), choices=Cause.choices, coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    exclusions = forms.MultipleChoiceField(
        label=_("排除情形（符合任一项则不予建档）"), choices=Exclusion.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Household
        fields = [
            "union", "address", "phone", "housing_type", "area_band", "single_parent", "zero_employment",
            "self_reliant", "model_worker", "migrant_worker", "key_group", "consent_basis",
            "bank_name", "bank_branch", "bank_card", "main_cause", "secondary_causes", "accident", "exclusions",
            *MONEY_FIELDS,
        ]
        widgets = {"bank_card": forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["union"].queryset = Union.objects.visible_to(user).filter(region__isnull=False).order_by("path")
        self.fields["key_group"].choices = KeyGroup.choices
        for name in MONEY_FIELDS:
            self.fields[name].widget.attrs.update({"step": "0.01", "min": "0", "inputmode": "decimal"})
            self.fields[name].help_text = _("近 12 个月合计（元）")

    def clean_secondary_causes(self) -> list[int]:
        causes = self.cleaned_data["secondary_causes"]
        if len(causes) > 3:
            raise forms.ValidationError(_("其他致困原因最多选三项。"))
        return causes

    def clean_bank_card(self) -> str:
        card = "".join(self.cleaned_data["bank_card"].split())
        if card and not (card.isdigit() and 12 <= len(card) <= 19):
            raise forms.ValidationError(_("银行卡号应为 12 至 19 位数字。"))
        return card

    def clean(self):
        cleaned = super().clean()
        main, secondary = cleaned.get("main_cause"), cleaned.get("secondary_causes") or []
        if main and main in secondary:
            self.add_error("secondary_causes", _("主要致困原因不能同时作为其他致困原因。"))
        union = cleaned.get("union")
        if union is not None:
            self.instance.region = union.region
        return cleaned


MASKED_ID = re.compile(r"\d{6}\*{8}[\dXx]{4}")


class MemberForm(forms.ModelForm):
    id_number = forms.CharField(label=_("身份证号"), max_length=40)

    class Meta:
        model = Member
        fields = [
            "is_primary", "name", "sex", "ethnicity", "relationship", "id_number", "birth_date", "health",
            "disability", "health_notes", "medical_insurance", "work_status", "able_to_work", "employer",
            "monthly_income",
        ]
        widgets = {
            "birth_date": date_input(),
            "health_notes": forms.TextInput(),
            "monthly_income": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
        }

    def __init__(self, *args, masked_ok: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.masked_ok = masked_ok
        if self.instance.pk and self.instance.id_number:
            # The form shows a stored number masked, like every page: sent back unchanged, it keeps the number.
            self.initial["id_number"] = idnumbers.mask(self.instance.id_number)

    def clean_id_number(self) -> str:
        raw = self.cleaned_data["id_number"].strip()
        if self.instance.pk and self.instance.id_number and raw == idnumbers.mask(self.instance.id_number):
            raw = self.instance.id_number
        elif self.masked_ok and MASKED_ID.fullmatch(raw):
            return raw  # the live assessment of an edit form: the number is not needed to assess
        try:
            self.parsed_id = idnumbers.parse(raw)
        except idnumbers.IdNumberError as error:
            raise forms.ValidationError(error.template, code=error.code, params=error.params) from error
        return self.parsed_id.number

    def clean(self):
        cleaned = super().clean()
        parsed = getattr(self, "parsed_id", None)
        if parsed is not None:
            for field, message in idnumbers.check_against(
                parsed, birth_date=cleaned.get("birth_date"), sex=cleaned.get("sex"),
            ).items():
                self.add_error(field, message)
        if cleaned.get("disability") and cleaned.get("health") != "disabled":
            self.add_error("health", _("填写了残疾类别时，健康状况应为“残疾”。"))
        return cleaned


class BaseMemberFormSet(BaseInlineFormSet):
    default_error_messages = {"too_few_forms": _("请至少填写一名家庭成员。")}

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        live = [form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        if not live:
            raise forms.ValidationError(_("请至少填写一名家庭成员。"))
        if sum(1 for form in live if form.cleaned_data.get("is_primary")) != 1:
            raise forms.ValidationError(_("请在家庭成员中选定一名（且只有一名）建档职工。"))
        numbers = [form.cleaned_data["id_number"] for form in live]
        if len(set(numbers)) != len(numbers):
            raise forms.ValidationError(_("同一身份证号在本户中填写了两次。"))

    def live_members(self) -> list[Member]:
        return [form.instance for form in self.forms
                if form.cleaned_data and not form.cleaned_data.get("DELETE")]


MemberFormSet = inlineformset_factory(
    Household, Member, form=MemberForm, formset=BaseMemberFormSet, extra=0, min_num=1, validate_min=True,
    can_delete=True,
)


class SearchForm(forms.Form):
    SORTS = {
        "-updated": "-updated_at", "updated": "updated_at", "file": "file_number", "-file": "-file_number",
        "name": "head_name", "reverify": "reverify_due",
    }
    q = forms.CharField(label=_("姓名、身份证号或档案编号"), required=False, max_length=64)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部"))] + Status.choices)
    category = forms.ChoiceField(label=_("困难类别"), required=False, choices=[("", _("全部"))] + Category.choices)
    cause = forms.TypedChoiceField(label=_("致困原因"), required=False, coerce=int, empty_value=None,
                                   choices=[("", _("全部"))] + Cause.choices)
    key_group = forms.ChoiceField(label=_("重点群体"), required=False,
                                  choices=[("", _("全部"))] + KeyGroup.choices[1:])
    flag = forms.ChoiceField(label=_("家庭特征"), required=False, choices=[
        ("", _("全部")), ("single_parent", _("单亲家庭")), ("zero_employment", _("零就业家庭")),
        ("migrant_worker", _("农民工")), ("model_worker", _("劳模")),
    ])
    union = forms.CharField(label=_("单位代码"), required=False, max_length=32)
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=[
        ("-updated", _("最近更新")), ("updated", _("最早更新")), ("file", _("档案编号")), ("name", _("姓名")),
        ("reverify", _("复核到期")),
    ])


class ReasonForm(forms.Form):
    """Every transition's form: the reason, and the file's version the page was drawn from (a stale page or a
    second click of the same button is refused instead of moving the file twice)."""

    reason = forms.CharField(label=_("意见或理由"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, transition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = transition.needs_reason

    def main_fields(self) -> list:
        return self.visible_fields()

    def arguments(self) -> dict:
        """The keyword arguments of the register function: every field but the version."""
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}


class VisitTransitionForm(ReasonForm):
    visited_on = forms.DateField(label=_("走访日期"), widget=date_input())
    companions = forms.CharField(label=_("同行人员"), required=False, max_length=200)
    findings = forms.CharField(label=_("走访情况"), widget=forms.Textarea(attrs={"rows": 4}))
    signed_application = forms.BooleanField(label=_("已收到本人签字的申请书"), required=False)
    finance_authorisation = forms.BooleanField(label=_("已收到家庭经济状况核对授权书"), required=False)


class StartNoticeForm(ReasonForm):
    starts_on = forms.DateField(label=_("公示开始日期"), widget=date_input(),
                                help_text=_("张贴公示的日期：今天，或民政核对之后已经张贴的日期。"))


class CivilCheckForm(ReasonForm):
    on_dibao = forms.BooleanField(label=_("民政部门显示已享受低保"), required=False)
    dibao_amount = forms.DecimalField(label=_("低保金额（元/月）"), required=False, min_value=Decimal("0"),
                                      decimal_places=2)


class ExitProposalForm(ReasonForm):
    """脱困 evidence is one field per named month (the last complete ones), each checked against that month's line."""

    kind = forms.ChoiceField(label=_("退出方式"))
    removal_reason = forms.ChoiceField(label=_("注销原因（注销时填写）"), required=False)

    def __init__(self, *args, **kwargs):
        from dossiers.models import ExitKind, RemovalReason
        from dossiers.register import evidence_months

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ExitKind.choices
        self.fields["removal_reason"].choices = [("", "—")] + RemovalReason.choices
        self.months = evidence_months()
        for month in self.months:
            self.fields[self.month_field(month)] = forms.DecimalField(
                label=_("%(year)d年%(month)d月") % {"year": month.year, "month": month.month},
                required=False, min_value=Decimal("0"), max_digits=12, decimal_places=2,
                widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
            )

    def main_fields(self) -> list:
        return [field for field in self.visible_fields() if not field.name.startswith("income_")]

    def income_fields(self) -> list:
        return [self[self.month_field(month)] for month in self.months]

    @staticmethod
    def month_field(month) -> str:
        return f"income_{month:%Y_%m}"

    def clean(self):
        cleaned = super().clean()
        from dossiers.models import ExitKind

        incomes = [cleaned.get(self.month_field(month)) for month in self.months]
        if cleaned.get("kind") == ExitKind.EXIT:
            for month, income in zip(self.months, incomes):
                if income is None and self.month_field(month) not in self.errors:
                    self.add_error(self.month_field(month), _("脱困须填写每个月的人均收入。"))
        cleaned["incomes"] = incomes if all(income is not None for income in incomes) else []
        return cleaned

    def arguments(self) -> dict:
        data = self.cleaned_data
        return {"kind": data["kind"], "removal_reason": data["removal_reason"], "reason": data["reason"],
                "monthly_incomes": data["incomes"], "first_income_month": self.months[0] if data["incomes"] else None}


class TransferForm(ReasonForm):
    to_union = forms.CharField(label=_("接收单位代码"), max_length=32,
                               help_text=_("如 410105-C01；可在“组织机构”中查到。"))

    def clean_to_union(self) -> Union:
        try:
            return Union.objects.get(code=self.cleaned_data["to_union"].strip(), is_active=True)
        except Union.DoesNotExist as error:
            raise forms.ValidationError(_("没有这个单位代码。")) from error


class CategoryOverrideForm(forms.Form):
    final_category = forms.ChoiceField(label=_("确定的困难类别"), choices=Category.choices)
    override_reason = forms.CharField(label=_("调整理由"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ObjectionForm(forms.Form):
    received_on = forms.DateField(label=_("收到日期"), widget=date_input())
    content = forms.CharField(label=_("异议内容"), widget=forms.Textarea(attrs={"rows": 3}))


class ObjectionDecisionForm(forms.Form):
    upheld = forms.TypedChoiceField(label=_("核实结果"), coerce=lambda v: v == "yes",
                                    choices=[("no", _("异议不成立")), ("yes", _("异议成立，退回修改"))],
                                    widget=forms.RadioSelect)
    decision = forms.CharField(label=_("核实结论"), widget=forms.Textarea(attrs={"rows": 3}))
