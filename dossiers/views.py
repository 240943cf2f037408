"""Pages of the household file: list, detail, create and edit, reveal an ID number, print, look-up."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dossiers.actions import actions_for
from dossiers.choices import Category, Status
from dossiers.filing import FilingError, existing_membership_message, preview, save_household
from dossiers.forms import HouseholdForm, MemberFormSet, SearchForm
from dossiers.models import Household, Member
from dossiers.pairing import active_pairing
from dossiers.search import SAVED_VIEWS, households_for, paginate, remember_search, search_data
from dossiers.visits import next_visit_on
from hardship import audit, idnumbers, punctuation
from hardship.access import get_visible_or_404
from hardship.history import file_history
from hardship.models import AccessRecord, User


def _household(request: HttpRequest, file_number: str, *, related: tuple = ()) -> Household:
    queryset = Household.objects.select_related("union", "region", *related)
    return get_visible_or_404(queryset, request.user, file_number=file_number)


def _require_filing(request: HttpRequest) -> None:
    """The filing form's helpers (a member row, the live assessment, the ID look-up) serve those who file."""
    if not (request.user.has_perm("dossiers.add_household") or request.user.has_perm("dossiers.change_household")):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def household_list(request: HttpRequest) -> HttpResponse:
    """The list and its search. The search form posts (a name or an ID number never goes into a URL) and the
    page's address names the search by a token kept in the session (search.remember_search)."""
    if not request.user.has_perm("dossiers.view_household"):
        raise PermissionDenied  # 三员分立: the system and security administrators do not read the files
    view = request.POST.get("view", "") if request.method == "POST" else request.GET.get("view", "")
    if request.method == "POST":
        query = QueryDict(mutable=True)
        query.update({"s": remember_search(request, request.POST), **({"view": view} if view else {})})
        address = f"{reverse('dossiers:list')}?{query.urlencode()}"
        if not request.htmx:
            return redirect(address)
    else:
        query = request.GET.copy()
        query.pop("page", None)
    data = search_data(request.session, query)
    form = SearchForm(data or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = paginate(households_for(request.user, filters, view), page_number(request))
    context = {"form": form, "page": page, "view": view, "saved_views": SAVED_VIEWS, "query": query.urlencode()}
    template = "dossiers/household_list.html#results" if request.htmx else "dossiers/household_list.html"
    response = render(request, template, context)
    if request.method == "POST":
        response["HX-Push-Url"] = address
    return response


def page_number(request: HttpRequest) -> int:
    """The ?page= number, 1 when it is missing or not a number."""
    try:
        return int(request.GET.get("page", 1))
    except ValueError:
        return 1


# Pages with personal data (the print page has the full ID numbers): no browser or proxy keeps a copy.
no_store = cache_control(no_store=True, private=True)


@login_required
@require_GET
@no_store
def household_detail(request: HttpRequest, file_number: str) -> HttpResponse:
    household = with_people(_household(request, file_number, related=("region__parent", "plan")))
    events = list(household.register_events.select_related("actor"))
    assessment = household.assessments.select_related("standard__region", "made_by").first()
    moves = actions_for(household, request.user)
    visits = list(household.visits.select_related("visitor", "helper"))
    context = {
        "household": household,
        "members": household.members.all(),
        "assessment": assessment,
        "category": category_text(household, assessment),
        "housing": housing_text(household),
        "events": events,
        "status_event": status_event(household, events),
        "visits": visits,
        "next_visit": next_visit_on(household, visits[0].visited_on if visits else None),
        "current_pairing": active_pairing(household),
        "today": timezone.localdate(),
        "can_add_visit": request.user.has_perm("dossiers.add_visit", household),
        "objections": household.objections.select_related("recorded_by", "decided_by"),
        "actions": moves,
        "transitions": [action.transition for action in moves if action.allowed],
        "refused": [action for action in moves if not action.allowed],
        "can_edit": request.user.has_perm("dossiers.change_household", household),
        "can_reveal": request.user.has_perm("dossiers.reveal_id_number", household),
        "can_object": request.user.has_perm("dossiers.decide_objection", household),
        "pending_transfer": household.transfers.filter(accepted__isnull=True).select_related("to_union").first(),
        # Failed and not re-issued: the bank card may need correcting.
        "failed_payments": household.payments.filter(status="failed", reissue__isnull=True).count(),
    }
    audit.record(request, AccessRecord.Action.VIEW, household.file_number, union=household.union)
    return render(request, "dossiers/household_detail.html", context)


HOUSEHOLD_PEOPLE = ("filed_by", "first_reviewed_by", "reviewed_by", "entered_by", "pending_category_by")


def with_people(household: Household) -> Household:
    """The file's filer, reviewers and clerk in one query: five more joins in the file's own query cost the
    planner more (~5 ms with the region and union) than this query takes to run."""
    people = User.objects.in_bulk({getattr(household, f"{name}_id") for name in HOUSEHOLD_PEOPLE} - {None})
    for name in HOUSEHOLD_PEOPLE:
        setattr(household, name, people.get(getattr(household, f"{name}_id")))
    return household


def category_text(household: Household, assessment) -> str:
    """困难类别 as a caseworker reads it: the register's, else what the latest assessment found, else 待评定."""
    if household.category:
        return household.get_category_display()
    if assessment is None:
        return _("待评定")
    found = category_label(assessment.final_category or assessment.proposed_category)
    if household.is_closed:
        return _("%(category)s（评估结果）") % {"category": found}
    return _("%(category)s（评估结果，尚未入档）") % {"category": found}


def housing_text(household: Household) -> str:
    """住房: the type and the area that are filled in (an imported file may have neither)."""
    parts = [household.get_housing_type_display() if household.housing_type else "",
             household.get_area_band_display() if household.area_band else ""]
    return punctuation.comma().join(part for part in parts if part) or _("未填写")


def status_event(household: Household, events: list):
    """The move that brought a returned, withdrawn or declined file to its status: its reason goes on top."""
    if household.status not in (Status.RETURNED, Status.WITHDRAWN, Status.DECLINED):
        return None
    return next((event for event in events if event.to_status == household.status), None)


@login_required
@require_GET
@no_store
def household_history(request: HttpRequest, file_number: str) -> HttpResponse:
    """The file's change history, loaded into the file page after it (it is the costliest part to build): its
    latest entries, or all of them (?all=1). Without htmx (a plain link) it is a page of its own with all of them."""
    household = _household(request, file_number)
    context = {"household": household, "rows": file_history(household),
               "show_all": request.GET.get("all") == "1" or not request.htmx}
    template = "partials/history_table.html" if request.htmx else "dossiers/household_history.html"
    return render(request, template, context)


@login_required
def household_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("dossiers.add_household"):
        raise PermissionDenied
    return _edit(request, Household(), template="dossiers/household_form.html")


@login_required
@no_store
def household_edit(request: HttpRequest, file_number: str) -> HttpResponse:
    household = _household(request, file_number)
    if not request.user.has_perm("dossiers.change_household", household):
        raise PermissionDenied
    return _edit(request, household, template="dossiers/household_form.html")


def _edit(request: HttpRequest, household: Household, *, template: str) -> HttpResponse:
    form = HouseholdForm(request.POST or None, instance=household, user=request.user)
    formset = MemberFormSet(request.POST or None, instance=household, prefix="members")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            save_household(form.instance, formset.live_members(), by=request.user)
        except FilingError as error:
            form.add_error(error.field, str(error))
        else:
            messages.success(request, _("档案 %(file)s 已保存，并已重新评估收入。") % {"file": household.file_number})
            return redirect("dossiers:detail", file_number=household.file_number)
    return render(request, template, {"form": form, "formset": formset, "household": household})


MAX_MEMBERS = 30


def category_label(value: str) -> str:
    return Category(value).label if value in Category.values else _("不符合建档标准")


@login_required
@require_GET
def member_row(request: HttpRequest) -> HttpResponse:
    """An empty member row for the form, added in place with htmx."""
    _require_filing(request)
    try:
        index = int(request.GET.get("members-TOTAL_FORMS", "0"))
    except ValueError as error:
        raise Http404 from error
    if not 0 <= index < MAX_MEMBERS:
        raise Http404
    form = MemberFormSet(prefix="members").empty_form
    form.prefix = f"members-{index}"
    response = render(request, "dossiers/member_row.html", {"member_form": form, "total": index + 1})
    response["HX-Trigger"] = "member-added"
    return response


@login_required
@require_POST
def assessment_preview(request: HttpRequest) -> HttpResponse:
    """The assessment as the caseworker types: per-capita income against the local line."""
    _require_filing(request)
    form = HouseholdForm(request.POST, instance=Household(), user=request.user)
    formset = MemberFormSet(request.POST, instance=form.instance, prefix="members", form_kwargs={"masked_ok": True})
    context = {}
    if form.is_valid() and formset.is_valid():
        try:
            context["result"], context["standard"] = preview(form.instance, formset.live_members())
            context["category_label"] = category_label(context["result"].category)
        except FilingError as error:
            context["error"] = str(error)
    else:
        context["incomplete"] = True
    return render(request, "dossiers/household_form.html#assessment", context)


@login_required
@require_POST
@no_store
def reveal_id_number(request: HttpRequest, file_number: str, member_id: int) -> HttpResponse:
    household = _household(request, file_number)
    if not request.user.has_perm("dossiers.reveal_id_number", household):
        raise PermissionDenied
    member = get_object_or_404(household.members, pk=member_id)
    subject = f"{household.file_number} {member.name} {member.masked_id_number}"
    audit.record(request, AccessRecord.Action.REVEAL, subject, union=household.union)
    return HttpResponse(f'<span class="id-number revealed">{member.id_number}</span>')


@login_required
@require_GET
@no_store
def household_print(request: HttpRequest, file_number: str) -> HttpResponse:
    household = with_people(_household(request, file_number, related=("plan",)))
    members = list(household.members.all())
    head = next(member for member in members if member.is_primary)
    show_full_ids = request.user.has_perm("dossiers.reveal_id_number", household)
    # One record: printing the full numbers is a reveal, the masked sheet a view.
    action = AccessRecord.Action.REVEAL if show_full_ids else AccessRecord.Action.VIEW
    audit.record(request, action, f"{household.file_number} {_('打印档案表')}", union=household.union)
    context = {
        "household": household, "members": members, "head": head, "show_full_ids": show_full_ids,
        "head_id": head.id_number if show_full_ids else head.masked_id_number,
        "events": household.register_events.select_related("actor").order_by("at"),
        "visits": household.visits.select_related("visitor", "helper"),
        "plan": getattr(household, "plan", None),
        "measures": household.measures.select_related("measure_type"),
        "current_pairing": active_pairing(household),
        "objections": household.objections.all(),
        "housing": housing_text(household),
        **_printed_assessment(household),
    }
    return render(request, "dossiers/household_print.html", context)


def _printed_assessment(household: Household) -> dict:
    assessment = household.assessments.select_related("standard").first()
    return {"assessment": assessment, "category": category_text(household, assessment)}


@login_required
def id_lookup(request: HttpRequest) -> HttpResponse:
    """Does a file exist anywhere for this ID number? Only what the user may know is said.
    The number travels by POST, so it never lands in URLs, logs or browser history."""
    _require_filing(request)
    raw = request.POST.get("id_number", "")
    context = {"raw": raw}
    if raw.strip():
        try:
            number = idnumbers.parse(raw).number
        except idnumbers.IdNumberError as error:
            context["error"] = error.message
        else:
            context["masked"] = idnumbers.mask(number)
            member = (Member.objects.filter(id_number=number, is_open=True)
                      .select_related("household__union__parent").first())
            if member and request.user.has_perm("dossiers.view_household", member.household):
                context["household"] = member.household
                context["message"] = existing_membership_message(number, user=request.user)
            elif member:  # another unit's file: only that unit and how to reach it, nothing of the file
                context["other_union"] = member.household.union
    return render(request, "dossiers/id_lookup.html", context)

