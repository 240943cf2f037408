"""一帮一结对帮扶 and 走访 pages: the helpers of a union subtree, a helper's own households with what is due, the
pairing panel of one file (suggestions, pairing, handover), follow-up visits, and the subtree's optimal proposal."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dossiers import pairing, visits
from dossiers.models import Helper, Household
from dossiers.pairing_forms import HandoverForm, HelperForm, PairForm, VisitForm
from dossiers.search import OPEN_MEASURE_STATUSES
from hardship.access import get_visible_or_404

no_store = cache_control(no_store=True, private=True)
PROPOSAL_SIZE = 200  # households proposed at once: a page a caseworker can review line by line


def _require(request: HttpRequest, permission: str, obj=None) -> None:
    if not request.user.has_perm(permission, obj):
        raise PermissionDenied


def _helper(request: HttpRequest, pk: int) -> Helper:
    helper = get_object_or_404(pairing.visible_helpers(request.user).select_related("user"), pk=pk)
    if not request.user.has_perm("dossiers.view_helper"):
        raise PermissionDenied
    return helper


def _household(request: HttpRequest, file_number: str) -> Household:
    household = get_visible_or_404(Household.objects.select_related("union"), request.user, file_number=file_number)
    _require(request, "dossiers.view_household", household)
    return household


@login_required
@require_GET
def helper_list(request: HttpRequest) -> HttpResponse:
    _require(request, "dossiers.view_helper")
    helpers = pairing.visible_helpers(request.user)
    if request.GET.get("free") == "1":
        helpers = pairing.candidate_helpers(request.user)
    query = request.GET.get("q", "").strip()[:40]
    if query:
        helpers = helpers.filter(Q(name__contains=query) | Q(helping_unit__contains=query))
    page = Paginator(helpers, 50).get_page(request.GET.get("page"))
    return render(request, "dossiers/helpers/list.html", {
        "page": page, "query": query, "free_only": request.GET.get("free") == "1",
        "can_add": request.user.has_perm("dossiers.add_helper"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def helper_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    helper = _helper(request, pk) if pk else None
    _require(request, "dossiers.change_helper" if helper else "dossiers.add_helper", helper)
    form = HelperForm(request.POST or None, instance=helper, user=request.user)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, _("已保存帮扶责任人 %(name)s。") % {"name": saved.name})
        return redirect("helpers:detail", pk=saved.pk)
    return render(request, "dossiers/helpers/form.html", {"form": form, "helper": helper},
                  status=422 if request.method == "POST" else 200)


@login_required
@require_GET
@no_store
def helper_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A helper's own page: their households with the next visit and the open and overdue measures."""
    helper = _helper(request, pk)
    today = timezone.localdate()
    # Only the households of the user's own subtree: a county cadre also helps files other units keep.
    mine = Household.objects.visible_to(request.user).values("pk")
    open_measure = Q(household__measures__status__in=OPEN_MEASURE_STATUSES)
    current = (helper.pairings.filter(ended_on__isnull=True, household__in=mine).select_related("household__union")
               .annotate(last_visit=Max("household__visits__visited_on"),
                         open_measures=Count("household__measures", distinct=True, filter=open_measure),
                         overdue_measures=Count("household__measures", distinct=True,
                                                filter=open_measure & Q(household__measures__due_on__lt=today))))
    rows = [(p, visits.next_visit_on(p.household, p.last_visit)) for p in current]
    return render(request, "dossiers/helpers/detail.html", {
        "helper": helper, "rows": rows, "today": today,
        "past": helper.pairings.filter(ended_on__isnull=False, household__in=mine).select_related("household")[:50],
        "can_change": request.user.has_perm("dossiers.change_helper", helper),
    })


@login_required
@require_http_methods(["GET", "POST"])
@no_store
def household_pairing(request: HttpRequest, file_number: str) -> HttpResponse:
    """The file's pairing panel: the responsible helper and the pairings before, or the five best suggestions."""
    household = _household(request, file_number)
    can_pair = request.user.has_perm("dossiers.pair_household", household)
    current = pairing.active_pairing(household)
    helpers = pairing.candidate_helpers(request.user, household)
    form_class = HandoverForm if current else PairForm
    form = form_class(request.POST or None, helpers=helpers)
    if request.method == "POST":
        _require(request, "dossiers.pair_household", household)
        if form.is_valid():
            try:
                if current:
                    pairing.hand_over(household, form.cleaned_data["helper"], by=request.user,
                                      note=form.cleaned_data["note"])
                else:
                    pairing.pair(household, form.cleaned_data["helper"], by=request.user)
            except pairing.PairingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("已登记结对帮扶。"))
                return redirect("dossiers:pairing", file_number=household.file_number)
    return render(request, "dossiers/pairing.html", {
        "household": household, "current": current, "form": form if can_pair else None,
        "suggestions": pairing.suggestions_for(request.user, household) if can_pair else [],
        "pairable": household.status in pairing.PAIRABLE_STATUSES,
        "history": household.pairings.filter(ended_on__isnull=False).select_related("helper", "ended_by"),
    }, status=422 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest, file_number: str) -> HttpResponse:
    household = _household(request, file_number)
    _require(request, "dossiers.add_visit", household)
    helpers = Helper.objects.filter(pairings__household=household).distinct()
    form = VisitForm(request.POST or None, helpers=helpers)
    if request.method == "POST" and form.is_valid():
        visit = form.save(commit=False)
        visit.household, visit.visitor = household, request.user
        visit.save()
        messages.success(request, _("已登记走访记录。"))
        return redirect("dossiers:detail", file_number=household.file_number)
    return render(request, "dossiers/visit_form.html", {"household": household, "form": form},
                  status=422 if request.method == "POST" else 200)


@login_required
@require_GET
def proposal(request: HttpRequest) -> HttpResponse:
    """The optimal assignment of the subtree's unpaired households to its helpers with free slots, for review."""
    _require(request, "dossiers.pair_household")
    waiting = pairing.unpaired(Household.objects.visible_to(request.user)).order_by("registered_on", "pk")
    result, households, helpers = pairing.propose_for(request.user, waiting[:PROPOSAL_SIZE])
    lines = [(households[line.household_id], helpers[line.helper_id], line) for line in result.lines]
    return render(request, "dossiers/helpers/proposal.html", {
        "lines": lines, "unassigned": [households[pk] for pk in result.unassigned],
        "total_cost": result.total_cost, "waiting": waiting.count(), "shown": len(households),
        "helpers": sorted(helpers.values(), key=lambda h: (h.union.path, h.name)),
    })


@login_required
@require_POST
def proposal_confirm(request: HttpRequest) -> HttpResponse:
    """Pairs every line the caseworker kept (their choice of helper per household) in one transaction."""
    _require(request, "dossiers.pair_household")
    chosen = _chosen_lines(request)
    if not chosen:
        messages.error(request, _("没有选中任何结对。"))
        return redirect("helpers:proposal")
    try:
        created = pairing.confirm(chosen, by=request.user)
    except pairing.PairingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("已结对 %(count)d 户。") % {"count": len(created)})
    return redirect("helpers:proposal")


def _chosen_lines(request: HttpRequest) -> list[tuple[Household, Helper]]:
    """household=<file number> with helper-<file number>=<helper id>, each looked up through the user's scope."""
    files = request.POST.getlist("household")[:PROPOSAL_SIZE]
    choices = {file: request.POST.get(f"helper-{file}", "") for file in files}
    households = {h.file_number: h for h in Household.objects.visible_to(request.user)
                  .select_related("union").filter(file_number__in=files)}
    ids = [int(value) for value in choices.values() if value.isdigit()]
    helpers = {h.pk: h for h in pairing.visible_helpers(request.user).filter(pk__in=ids)}
    lines = []
    for file, value in choices.items():
        household, helper = households.get(file), helpers.get(int(value)) if value.isdigit() else None
        if household is None or helper is None:
            continue
        _require(request, "dossiers.pair_household", household)
        lines.append((household, helper))
    return lines

