"""The supervisor's dashboard of a union (and its chart data, xlsx export and printable page), and the exit targets.
Every view takes the union through the user's scope: a union outside it is not found (404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from hardship import audit
from hardship.access import get_visible_or_404
from hardship.exports import attachment, workbook_content
from hardship.models import AccessRecord, Union
from reporting import dashboard as board
from reporting.figures import figures_of
from reporting.forms import TargetForm, year_of
from reporting.models import ExitTarget


def _union(request: HttpRequest, code: str | None) -> Union:
    if not request.user.has_perm("reporting.view_dashboard"):
        raise PermissionDenied
    if code is None and request.user.home_union_id:
        union = request.user.home_union  # the user's own union: in scope by definition, already read for the scope
    else:
        union = get_visible_or_404(Union.objects.all(), request.user, code=code)
    if not request.user.has_perm("reporting.view_dashboard", union):
        raise PermissionDenied
    return union


def _dashboard(request: HttpRequest, union: Union) -> board.Dashboard:
    today = timezone.localdate()
    children = list(Union.objects.filter(parent=union, is_active=True).order_by("path"))
    return board.build(union, children, today, year_of(request.GET.get("year"), today), request.GET.get("sort", ""))


def _breadcrumbs(request: HttpRequest, union: Union) -> list[Union]:
    """From the user's own union down to this one's parent: the levels above the user's scope are not links."""
    home = request.user.home_union
    return [a for a in union.ancestors() if home is None or a.path.startswith(home.path)]


@login_required
@require_GET
def dashboard(request: HttpRequest, code: str | None = None) -> HttpResponse:
    union = _union(request, code)
    view = _dashboard(request, union)
    query = request.GET.copy()
    query.pop("sort", None)
    context = {"board": view, "union": union, "ancestors": _breadcrumbs(request, union),
               "query": query.urlencode(), "can_set_targets": request.user.has_perm("reporting.change_exittarget",
                                                                                   union)}
    return render(request, "reporting/dashboard.html", context)


@login_required
@require_GET
def dashboard_data(request: HttpRequest, code: str) -> JsonResponse:
    return JsonResponse(board.chart_data(_dashboard(request, _union(request, code))))


@login_required
@require_GET
def dashboard_print(request: HttpRequest, code: str) -> HttpResponse:
    union = _union(request, code)
    view = _dashboard(request, union)
    return render(request, "reporting/dashboard_print.html",
                  {"board": view, "union": union, "summary": summary_rows(view)})


@login_required
@require_GET
@never_cache
def dashboard_export(request: HttpRequest, code: str) -> HttpResponse:
    union = _union(request, code)
    view = _dashboard(request, union)
    with translation.override("zh-hans"):  # like every export: Chinese headers and values in either UI language
        filename = f"{_('帮扶工作统计')}_{union.code}_{view.today:%Y%m%d}"
        content = workbook_content(export_sheets(view))
        audit.record(request, AccessRecord.Action.EXPORT, f"{_('帮扶工作统计')} {union.name}（{filename}.xlsx）",
                     union=union)
    return attachment(content, "xlsx", filename)


def export_sheets(view: board.Dashboard) -> list[tuple[str, list[list]]]:
    figures = view.figures
    heading = [[_("统计范围"), view.union.name], [_("统计日期"), f"{view.today:%Y年%-m月%-d日}"],
               [_("统计年度"), view.year], []]
    summary = heading + [[str(label), board.as_number(value)] for label, value in summary_rows(view)]
    for title, rows in ((_("困难类别"), figures.by_category), (_("主要致困原因"), figures.by_cause),
                        (_("重点群体"), figures.by_group), (_("档案状态"), figures.by_stage)):
        summary += [[], [title]] + [[str(label), n] for _value, label, n in rows]
    summary += [[], [_("帮扶措施"), *[str(label) for label in view.measure_statuses]]]
    summary += [[str(label), *counts] for label, counts in figures.measures]
    children = heading + [[_("单位"), *[str(column.label) for column in board.COLUMNS]]]
    children += [[child.union.name, *[board.as_number(column.value(child)) for column in board.COLUMNS]]
                 for child in view.children]
    return [(_("概况"), summary), (_("下级单位"), children)]


def summary_rows(view: board.Dashboard) -> list[tuple[str, object]]:
    """The dashboard's headline figures, as the export and the printable page list them."""
    f = view.figures
    return [
        (_("在档户数"), f.on_register), (_("低于低保"), f.below_line),
        (_("本年脱困"), f.count("exit", f"exited:{view.year}")),
        (_("本年解困"), f.count("exit", f"relieved:{view.year}")),
        (_("本年注销"), f.removed_this_year), (_("本年目标"), f.target),
        (_("完成进度（%）"), f.progress), (_("按计划本年可脱困"), f.planned_this_year),
        (_("下级目标合计"), f.children_target),
        (_("累计脱困解困"), f.exits_total()), (_("总体进度（%）"), f.overall_progress),
        (_("复核逾期"), f.reverify_overdue), (_("未结对"), f.unpaired), (_("无帮扶计划"), f.no_plan),
        (_("无在办措施"), f.no_open_measure), (_("建档未帮扶"), f.unhelped), (_("一年未更新"), f.unchanged_year),
        (_("本年发放（元）"), f.paid_this_year), (_("本年预算（元）"), f.budget),
    ]


@login_required
@require_http_methods(["GET", "POST"])
def targets(request: HttpRequest) -> HttpResponse:
    """The exit targets of the user's union and the unions directly under it, for one year."""
    union = request.user.home_union
    if union is None or not request.user.has_perm("reporting.change_exittarget", union):
        raise PermissionDenied
    today = timezone.localdate()
    year = year_of(request.GET.get("year") or request.POST.get("year"), today, default=today.year + 1)
    unions = [union, *Union.objects.filter(parent=union, is_active=True).order_by("path")]
    form = TargetForm(request.POST if request.method == "POST" else None, unions=unions, year=year)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            changed = form.save(request.user)
        messages.success(request, _("已保存 %(year)s 年度的脱困目标（%(n)s 项有变化）。")
                         % {"year": year, "n": changed})
        return redirect(f"{reverse('reporting:targets')}?year={year}")
    figures = figures_of(unions, today, year)
    parent_target = (ExitTarget.objects.filter(union_id=union.parent_id, year=year)
                     .values_list("households", flat=True).first())
    rows = [(u, form[f"u{u.pk}"], figures[u.pk]) for u in unions]
    return render(request, "reporting/targets.html", {
        "union": union, "year": year, "form": form, "rows": rows, "parent_target": parent_target,
        "years": range(today.year - 1, today.year + 4), "own": figures[union.pk]})
