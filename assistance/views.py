"""The plan page inside a household's file: the plan, its measures (added and edited in place with htmx), the
measures the causes suggest, and what the measures' income would make of the household's per-capita income."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from assistance import plans, suggestions
from assistance.forms import MeasureForm, PlanForm
from assistance.models import Measure, Plan
from dossiers.models import Household
from hardship.access import get_visible_or_404

TEMPLATE = "assistance/plan.html"


def _household(request: HttpRequest, file_number: str) -> Household:
    household = get_visible_or_404(Household.objects.select_related("union"), request.user, file_number=file_number)
    if not request.user.has_perm("dossiers.view_household", household):
        raise PermissionDenied
    return household


def _writable(request: HttpRequest, household: Household) -> None:
    if not request.user.has_perm("assistance.change_plan", household):
        raise PermissionDenied


def _plan_of(household: Household) -> Plan | None:
    return Plan.objects.filter(household=household).select_related("created_by", "updated_by").first()


def _context(request: HttpRequest, household: Household, plan: Plan | None, **extra) -> dict:
    assessment = household.assessments.select_related("standard").first()
    measures = list(plan.measures.select_related("measure_type")) if plan else []
    return {
        "household": household,
        "plan": plan,
        "measures": measures,
        "suggested": suggestions.for_household(household)[:6],
        "needs_employment": plans.needs_employment(household),
        "income": plans.income_path(plan, assessment) if plan else None,
        "can_change": request.user.has_perm("assistance.change_plan", household),
        "today": timezone.localdate(),
        **extra,
    }


def _answer(request: HttpRequest, context: dict, *, status: int = 200) -> HttpResponse:
    """The whole page, or for htmx the plan section alone (what a form's post replaces)."""
    template = f"{TEMPLATE}#plan-section" if request.htmx else TEMPLATE
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store, private"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def plan_page(request: HttpRequest, file_number: str) -> HttpResponse:
    """The plan, or (no plan yet) the form that writes it with its first measure."""
    household = _household(request, file_number)
    if request.method == "GET":
        plan = _plan_of(household)
        return _answer(request, _context(request, household, plan, **({} if plan else _new_plan_forms(household))))
    _writable(request, household)
    plan_form = PlanForm(request.POST)
    measure_form = MeasureForm(request.POST, prefix="m")
    if plan_form.is_valid() and measure_form.is_valid():
        try:
            plans.create_plan(household, plan_form.save(commit=False), [measure_form.save(commit=False)],
                              by=request.user)
        except plans.PlanError as error:
            _add_error(measure_form if error.field in MeasureForm.Meta.fields else plan_form, error)
        else:
            return redirect("assistance:plan", file_number=household.file_number)
    return _answer(request, _context(request, household, None, plan_form=plan_form, measure_form=measure_form),
                   status=422)


def _new_plan_forms(household: Household) -> dict:
    first = suggestions.for_household(household)
    initial = {"measure_type": first[0].pk} if first else {}
    return {"plan_form": PlanForm(), "measure_form": MeasureForm(prefix="m", initial=initial)}


def _add_error(form, error: plans.PlanError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, file_number: str) -> HttpResponse:
    household = _household(request, file_number)
    _writable(request, household)
    plan = _plan_of(household)
    if plan is None:
        return redirect("assistance:plan", file_number=household.file_number)
    form = PlanForm(request.POST or None, instance=plan)
    if request.method == "POST" and form.is_valid():
        try:
            plans.update_plan(form.save(commit=False), by=request.user)
        except plans.PlanError as error:
            _add_error(form, error)
        else:
            return _after_change(request, household)
    return _answer(request, _context(request, household, _plan_of(household), plan_edit_form=form),
                   status=422 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def measure_new(request: HttpRequest, file_number: str) -> HttpResponse:
    return _measure(request, file_number, None)


@login_required
@require_http_methods(["GET", "POST"])
def measure_edit(request: HttpRequest, file_number: str, pk: int) -> HttpResponse:
    return _measure(request, file_number, pk)


def _measure(request: HttpRequest, file_number: str, pk: int | None) -> HttpResponse:
    household = _household(request, file_number)
    _writable(request, household)
    plan = _plan_of(household)
    if plan is None:
        return redirect("assistance:plan", file_number=household.file_number)
    measure = get_object_or_404(Measure, pk=pk, plan=plan) if pk else Measure(plan=plan)
    form = MeasureForm(request.POST or None, instance=measure, prefix="m")
    if request.method == "POST" and form.is_valid():
        try:
            plans.save_measure(plan, form.save(commit=False), by=request.user)
        except plans.PlanError as error:
            _add_error(form, error)
        else:
            return _after_change(request, household)
    editing = {"measure_form": form, "editing_measure": measure.pk or "new"}
    return _answer(request, _context(request, household, plan, **editing),
                   status=422 if request.method == "POST" else 200)


def _after_change(request: HttpRequest, household: Household) -> HttpResponse:
    if request.htmx:
        return _answer(request, _context(request, household, _plan_of(household), saved=_("已保存。")))
    return redirect("assistance:plan", file_number=household.file_number)
