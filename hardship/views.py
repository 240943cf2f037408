"""Pages of the shared core: the home page per role, the union tree, its export, health."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, F, Func, IntegerField, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from hardship.access import get_visible_or_404
from hardship.exports import export_response
from hardship.history import recent_events_visible_to
from hardship.models import AccessRecord, Heartbeat, Role, Union, User
from hardship.resources import UnionResource

HOME_TEMPLATES = {
    Role.CASEWORKER: "hardship/home_caseworker.html",
    Role.SUPERVISOR: "hardship/home_supervisor.html",
    Role.ADMIN: "hardship/home_admin.html",
    Role.AUDITOR: "hardship/home_auditor.html",
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {"home_union": user.home_union}
    if user.home_union_id:
        context["children"] = child_unions_with_counts(user, user.home_union)
        context["kind_counts"] = subtree_kind_counts(user.home_union)
    if user.role in (Role.CASEWORKER, Role.SUPERVISOR):
        from dossiers.queues import work_queues  # the casework apps hang their due items here

        context["queues"] = work_queues(user)
    if user.role == Role.CASEWORKER:
        context["colleagues"] = colleagues_of(user)
    elif user.role == Role.ADMIN:
        context["users_by_role"] = users_by_role(user)
        context["heartbeat"] = Heartbeat.objects.filter(name="beat").first()
    elif user.role == Role.AUDITOR:
        context["events"] = recent_events_visible_to(user, limit=50)
        context["access_records"] = AccessRecord.objects.visible_to(user).select_related("user")[:50]
    return render(request, HOME_TEMPLATES.get(user.role, HOME_TEMPLATES[Role.CASEWORKER]), context)


@login_required
def union_detail(request: HttpRequest, code: str) -> HttpResponse:
    union = get_visible_or_404(Union.objects.select_related("region", "parent"), request.user, code=code)
    context = {
        "union": union,
        "ancestors": [a for a in union.ancestors() if request.user.has_perm("hardship.view_union", a)],
        "children": child_unions_with_counts(request.user, union),
        "members": union.users.filter(is_active=True).order_by("role", "username")
        if request.user.has_perm("hardship.view_user") else None,
        "can_change": request.user.has_perm("hardship.change_union", union),
    }
    return render(request, "hardship/union_detail.html", context)


@login_required
@require_GET
def union_export(request: HttpRequest, code: str, file_format: str) -> HttpResponse:
    union = get_visible_or_404(Union.objects, request.user, code=code)
    if not request.user.has_perm("hardship.export_union", union):
        raise PermissionDenied
    queryset = Union.objects.visible_to(request.user).subtree_of(union).select_related("region", "parent")
    stamp = timezone.localdate().strftime("%Y%m%d")
    return export_response(
        request, UnionResource(), queryset, file_format, filename=f"工会单位_{union.code}_{stamp}",
    )


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def child_unions_with_counts(user, union: Union):
    """Direct children of a unit, each with the size of its own subtree, in one query."""
    return (
        Union.objects.visible_to(user)
        .filter(parent=union)
        .select_related("region")
        .annotate(
            descendant_count=_subtree_count("path"),
            user_count=Count("users", filter=Q(users__is_active=True), distinct=True),
        )
        .order_by("code")
    )


def _subtree_count(path_field: str) -> Subquery:
    # COUNT as a plain function, so the subquery has no GROUP BY and always yields one row.
    inner = (
        Union.objects.filter(path__startswith=OuterRef(path_field))
        .exclude(path=OuterRef(path_field))
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    return Subquery(inner, output_field=IntegerField())


def subtree_kind_counts(union: Union) -> list[tuple[str, int]]:
    """How many units of each kind lie below a unit, in the tree's order of kinds."""
    counts = dict(
        Union.objects.subtree_of(union).exclude(pk=union.pk).order_by().values_list("kind").annotate(n=Count("pk"))
    )
    return [(label, counts[value]) for value, label in Union.Kind.choices if counts.get(value)]


def colleagues_of(user):
    return User.objects.filter(home_union=user.home_union, is_active=True).exclude(pk=user.pk).order_by("username")


def users_by_role(user) -> dict[str, int]:
    counts = dict(User.objects.visible_to(user).filter(is_active=True).values_list("role").annotate(n=Count("pk")))
    return {label: counts.get(value, 0) for value, label in Role.choices}
