"""Pages of the shared core: the union tree and its export, the refusal page (the role home pages are in reporting/,
health in health.py)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Func, IntegerField, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from hardship import audit
from hardship.access import get_visible_or_404
from hardship.exports import export_response
from hardship.models import AccessRecord, Union
from hardship.resources import UnionResource


@login_required
@require_GET
def union_detail(request: HttpRequest, code: str) -> HttpResponse:
    union = get_visible_or_404(Union.objects.select_related("region", "parent"), request.user, code=code)
    children = list(child_unions_with_counts(request.user, union))
    context = {
        "union": union,
        "ancestors": [a for a in union.ancestors() if request.user.has_perm("hardship.view_union", a)],
        "children": children,
        # Every unit below is a child or below one: the figure the parent page shows for this unit.
        "units_below": sum(child.descendant_count + 1 for child in children),
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


def child_unions_with_counts(user, union: Union):
    """Direct children of a unit, each with its own direct children (the rows its page lists) and every unit of its
    subtree below it, in one query."""
    return (
        Union.objects.visible_to(user)
        .filter(parent=union)
        .select_related("region")
        .annotate(
            child_count=_children_count(),
            descendant_count=_subtree_count("path"),
            user_count=Count("users", filter=Q(users__is_active=True), distinct=True),
        )
        .order_by("code")
    )


def _children_count() -> Subquery:
    inner = Union.objects.filter(parent=OuterRef("pk")).order_by().annotate(n=Func(F("pk"), function="COUNT"))
    return Subquery(inner.values("n"), output_field=IntegerField())


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


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    """Every refusal (handler403) is an access record: who, which path (never its query string: it may carry an ID
    number), from where; the user's own unit, the one the trail of their subtree shows it in."""
    user = getattr(request, "user", None)
    union = user.home_union if user is not None and user.is_authenticated else None
    audit.record(request, AccessRecord.Action.DENIED, f"{request.method} {request.path}", union=union, succeeded=False)
    return render(request, "403.html", status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token (CSRF_FAILURE_VIEW): refused and recorded like any other refusal."""
    return permission_denied(request)
