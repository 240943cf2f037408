"""The home page of each role: what to do next, the units below, and for the admin and auditor, oversight."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dossiers.queues import work_queues
from dossiers.views import page_number
from hardship import audit
from hardship.exports import CONTENT_TYPES, attachment, table_content
from hardship.models import AccessRecord, Heartbeat, Role, Union, User
from hardship.views import child_unions_with_counts
from reporting.audit import access_records, export_headers, export_row, trail_page
from reporting.forms import AuditFilterForm

HOME_TEMPLATES = {
    Role.CASEWORKER: "reporting/home_caseworker.html",
    Role.SUPERVISOR: "reporting/home_supervisor.html",
    Role.ADMIN: "reporting/home_admin.html",
    Role.AUDITOR: "reporting/home_auditor.html",
}


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.role == Role.AUDITOR:
        return auditor_home(request)
    if user.role == Role.SECURITY:
        return redirect("role_requests")
    context = {"home_union": user.home_union}
    if user.home_union_id:
        context["children"] = child_unions_with_counts(user, user.home_union)
        context["kind_counts"] = subtree_kind_counts(user.home_union)
    if user.role in (Role.CASEWORKER, Role.SUPERVISOR):
        context["queues"] = work_queues(user)
    if user.role == Role.SUPERVISOR:
        from assistance.subsidy_views import approval_queue, open_discrepancies

        context["batches_to_approve"] = list(approval_queue(user))
        context["open_discrepancies"] = open_discrepancies(user)
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
    page = trail_page(request.user, form.filters(), page_number(request)) if form.is_valid() else None
    query = request.GET.copy()
    query.pop("page", None)
    context = {"home_union": request.user.home_union, "form": form, "page": page, "query": query.urlencode(),
               "events": page.rows if page else []}
    context["filtered"] = any(query.values())
    query.pop("who", None)
    context["who_query"] = query.urlencode()  # a row's actor links to the same filters for that person
    template = HOME_TEMPLATES[Role.AUDITOR] + ("#trail" if request.htmx else "")
    return render(request, template, context)


# Half a year of a province's file views is more than one download should carry: narrow the period instead.
MAX_EXPORT_ROWS = 200_000


@login_required
@require_GET
@never_cache
def audit_export(request: HttpRequest, file_format: str) -> HttpResponse:
    """The access records of the auditor's subtree that the trail's filters select (a period, a person, an action)
    as xlsx or csv; the download is itself an access record."""
    if request.user.role != Role.AUDITOR:
        raise PermissionDenied
    if file_format not in CONTENT_TYPES:
        raise Http404
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return redirect(f"{reverse('home')}?{request.GET.urlencode()}")
    records = access_records(request.user, form.filters())
    count = records.order_by()[:MAX_EXPORT_ROWS + 1].count()
    if count > MAX_EXPORT_ROWS:
        messages.error(request, _("符合条件的访问记录超过 %(n)s 条，请缩短期间后分批导出。")
                       % {"n": f"{MAX_EXPORT_ROWS:,}"})
        return redirect(f"{reverse('home')}?{request.GET.urlencode()}")
    with translation.override("zh-hans"):  # like every export: Chinese headers and values in either UI language
        title = str(AccessRecord._meta.verbose_name_plural)
        content = table_content(file_format, export_headers(),
                                (export_row(record) for record in records.iterator(chunk_size=2000)), title=title)
        filename = f"{title}_{_period(form.cleaned_data)}"
        audit.record(request, AccessRecord.Action.EXPORT, f"{title} × {count}（{filename}.{file_format}）",
                     union=request.user.home_union)
    return attachment(content, file_format, filename)


def _period(data: dict) -> str:
    start, end = data.get("date_from"), data.get("date_to") or timezone.localdate()
    return f"{start:%Y%m%d}-{end:%Y%m%d}" if start else f"{end:%Y%m%d}"



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
