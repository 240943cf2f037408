"""The home page of each role: what to do next, the units below, and for the admin and auditor, oversight."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dossiers.queues import work_queues
from hardship.models import Heartbeat, Role, Union, User
from hardship.views import child_unions_with_counts
from reporting.audit import trail_page
from reporting.forms import AuditFilterForm

HOME_TEMPLATES = {
    Role.CASEWORKER: "reporting/home_caseworker.html",
    Role.SUPERVISOR: "reporting/home_supervisor.html",
    Role.ADMIN: "reporting/home_admin.html",
    Role.AUDITOR: "reporting/home_auditor.html",
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.role == Role.AUDITOR:
        return auditor_home(request)
    context = {"home_union": user.home_union}
    if user.home_union_id:
        context["children"] = child_unions_with_counts(user, user.home_union)
        context["kind_counts"] = subtree_kind_counts(user.home_union)
    if user.role in (Role.CASEWORKER, Role.SUPERVISOR):
        context["queues"] = work_queues(user)
    if user.role == Role.CASEWORKER:
        context["colleagues"] = colleagues_of(user)
    elif user.role == Role.ADMIN:
        context["users_by_role"] = users_by_role(user)
        context["heartbeat"] = Heartbeat.objects.filter(name="beat").first()
    return render(request, HOME_TEMPLATES.get(user.role, HOME_TEMPLATES[Role.CASEWORKER]), context)


def auditor_home(request: HttpRequest) -> HttpResponse:
    """The audit trail of the auditor's subtree: filtered by who, what and when (Beijing dates), 50 rows a page.
    The filters reload only the trail (htmx); without JavaScript the form and the page links load the whole page."""
    form = AuditFilterForm(request.GET)
    page = trail_page(request.user, form.filters(), _page_number(request)) if form.is_valid() else None
    query = request.GET.copy()
    query.pop("page", None)
    context = {"home_union": request.user.home_union, "form": form, "page": page, "query": query.urlencode(),
               "events": page.rows if page else []}
    context["filtered"] = any(query.values())
    query.pop("who", None)
    context["who_query"] = query.urlencode()  # a row's actor links to the same filters for that person
    template = HOME_TEMPLATES[Role.AUDITOR] + ("#trail" if request.htmx else "")
    return render(request, template, context)


def _page_number(request: HttpRequest) -> int:
    try:
        return int(request.GET.get("page", 1))
    except ValueError:
        return 1


def subtree_kind_counts(union: Union) -> list[tuple[str, int]]:
    """How many units of each kind lie below a unit, in the tree's order of kinds."""
    counts = dict(
        Union.objects.subtree_of(union).exclude(pk=union.pk).order_by().values_list("kind").annotate(n=Count("pk"))
    )
    return [(label, counts[value]) for value, label in Union.Kind.choices if counts.get(value)]


def colleagues_of(user: User):
    return User.objects.filter(home_union=user.home_union, is_active=True).exclude(pk=user.pk).order_by("username")


def users_by_role(user: User) -> dict[str, int]:
    counts = dict(User.objects.visible_to(user).filter(is_active=True).values_list("role").annotate(n=Count("pk")))
    return {label: counts.get(value, 0) for value, label in Role.choices}
