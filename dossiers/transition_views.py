"""Moving a file through the register: one confirmation page per transition, objections, transfers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dossiers import actions, forms, register
from dossiers.choices import Status
from dossiers.filing import FilingError, assess_household
from dossiers.models import Household, Objection, Transfer
from dossiers.views import category_label
from hardship.access import get_visible_or_404

TRANSITION_FORMS = {
    "record_visit": forms.VisitTransitionForm,
    "record_civil_check": forms.CivilCheckForm,
    "start_notice": forms.StartNoticeForm,
    "propose_exit": forms.ExitProposalForm,
    "request_transfer": forms.TransferForm,
}


@login_required
def transition(request: HttpRequest, file_number: str, name: str) -> HttpResponse:
    household = get_visible_or_404(Household.objects.select_related("union", "region"), request.user,
                                   file_number=file_number)
    spec = register.TRANSITIONS.get(name)
    if spec is None:
        raise Http404
    if not request.user.has_perm(spec.permission, household):
        raise PermissionDenied
    refusal = actions.refusal(household, request.user, spec)
    if refusal:  # an old link, a back button or a move before its time: say why instead of a dead form
        messages.error(request, refusal)
        return redirect("dossiers:detail", file_number=household.file_number)
    form = _transition_form(request, spec, household)
    if request.method == "POST" and form.is_valid():
        household.register_version = form.cleaned_data["version"]  # the file as the user saw it
        try:
            outcome = register.perform(name, household, by=request.user, **form.arguments())
        except register.TransitionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("已%(action)s。") % {"action": spec.label})
            target = outcome if isinstance(outcome, Household) else household
            return redirect("dossiers:detail", file_number=target.file_number)
    return render(request, "dossiers/transition.html", {"household": household, "spec": spec, "form": form,
                                                        "confirm_label": actions.confirm_label(spec)})


def _transition_form(request: HttpRequest, spec: register.Transition, household: Household) -> forms.ReasonForm:
    today = timezone.localdate()
    return TRANSITION_FORMS.get(spec.name, forms.ReasonForm)(
        request.POST or None, transition=spec,
        initial={"starts_on": today, "visited_on": today, "version": household.register_version},
    )


@login_required
def override_category(request: HttpRequest, file_number: str) -> HttpResponse:
    household = get_visible_or_404(Household.objects, request.user, file_number=file_number)
    if not request.user.has_perm("dossiers.change_household", household):
        raise PermissionDenied
    latest = household.assessments.first()
    form = forms.CategoryOverrideForm(request.POST or None, initial={"final_category": latest.proposed_category})
    if request.method == "POST" and form.is_valid():
        try:
            assess_household(household, by=request.user, **form.cleaned_data)
        except FilingError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, _("已重新评估并确定困难类别。"))
            return redirect("dossiers:detail", file_number=file_number)
    return render(request, "dossiers/override_category.html", {
        "household": household, "assessment": latest, "form": form,
        "proposed_label": category_label(latest.proposed_category)})


@login_required
def objection_new(request: HttpRequest, file_number: str) -> HttpResponse:
    household = get_visible_or_404(Household.objects, request.user, file_number=file_number)
    if not request.user.has_perm("dossiers.decide_objection", household):
        raise PermissionDenied
    if household.status != Status.IN_NOTICE:
        messages.error(request, _("只有公示中的档案可以登记异议。"))
        return redirect("dossiers:detail", file_number=file_number)
    form = forms.ObjectionForm(request.POST or None, initial={"received_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            register.record_objection(household, by=request.user, **form.cleaned_data)
        except register.TransitionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("已登记公示异议。"))
            return redirect("dossiers:detail", file_number=file_number)
    return render(request, "dossiers/objection_form.html", {"household": household, "form": form})


@login_required
def objection_decide(request: HttpRequest, file_number: str, pk: int) -> HttpResponse:
    household = get_visible_or_404(Household.objects, request.user, file_number=file_number)
    if not request.user.has_perm("dossiers.decide_objection", household):
        raise PermissionDenied
    objection = get_object_or_404(Objection, household=household, pk=pk)
    if objection.upheld is not None:
        messages.error(request, _("该异议已核实。"))
        return redirect("dossiers:detail", file_number=file_number)
    form = forms.ObjectionDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            register.decide_objection(objection, by=request.user, **form.cleaned_data)
        except register.TransitionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("已登记核实结论。"))
            return redirect("dossiers:detail", file_number=file_number)
    return render(request, "dossiers/objection_form.html",
                  {"household": household, "form": form, "objection": objection})


@login_required
@require_GET
def incoming_transfers(request: HttpRequest) -> HttpResponse:
    """Files other unions are handing to this user's subtree: the receiver sees only the essentials."""
    if not request.user.has_perm("dossiers.accept_transfer"):
        raise PermissionDenied
    home = request.user.home_union
    transfers = Transfer.objects.none() if home is None else (
        Transfer.objects.filter(accepted__isnull=True, to_union__path__startswith=home.path)
        .select_related("household", "from_union", "to_union", "requested_by")
    )
    return render(request, "dossiers/transfers.html", {"transfers": transfers})


@login_required
def transfer_decide(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = get_object_or_404(Transfer.objects.select_related("household", "to_union"), pk=pk)
    if not request.user.has_perm("dossiers.accept_transfer", transfer) or request.method != "POST":
        raise Http404
    try:
        register.decide_transfer(transfer, by=request.user, accept=request.POST.get("accept") == "yes",
                                 reason=request.POST.get("reason", ""))
    except register.TransitionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("已办理档案转移。"))
    return redirect("dossiers:transfers")
