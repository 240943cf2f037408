"""The due items on a caseworker's or supervisor's home page (我的工作)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.choices import Status
from dossiers.models import Household
from dossiers.search import apply_saved_view, households_for

ROWS_SHOWN = 5


@dataclass
class Queue:
    label: str
    url: str
    count: int
    rows: list[Household]


def _queue(label, queryset: QuerySet, query: str) -> Queue:
    rows = list(queryset.select_related("union")[:ROWS_SHOWN])
    count = len(rows) if len(rows) < ROWS_SHOWN else queryset.count()
    return Queue(label=label, url=f"{reverse('dossiers:list')}?{query}", count=count, rows=rows)


def work_queues(user) -> list[Queue]:
    visible = Household.objects.visible_to(user)
    today = timezone.localdate()
    if user.role == "supervisor":
        return [
            _queue(_("退出待我审批"), households_for(user, {}, "awaiting_me").filter(status=Status.EXIT_PROPOSED),
                   "view=awaiting_me&status=exit_proposed"),
            _queue(_("待复核"), households_for(user, {}, "awaiting_me").filter(status=Status.VISITED),
                   "view=awaiting_me&status=visited"),
            _queue(_("本月到期复核"), households_for(user, {}, "reverify_due"), "view=reverify_due"),
        ]

    def view(name: str) -> QuerySet:
        """The list's saved view on the queryset already scoped (households_for would scope it again: a query)."""
        return apply_saved_view(visible, user, name)

    return [
        _queue(_("待我审核"), view("awaiting_me").order_by("-updated_at", "-pk"), "view=awaiting_me"),
        _queue(_("待入户调查"), visible.filter(status=Status.FIRST_REVIEWED).order_by("updated_at"),
               "status=first_reviewed&sort=updated"),
        _queue(_("退回待修改"), visible.filter(status=Status.RETURNED, filed_by=user).order_by("updated_at"),
               "status=returned&sort=updated"),
        _queue(_("公示期满待入档"), visible.filter(status=Status.IN_NOTICE, notice_ends_on__lt=today),
               "view=in_notice"),
        _queue(_("本月到期复核"), view("reverify_due").order_by("reverify_due", "-pk"),
               "view=reverify_due&sort=reverify"),
        _queue(_("导入待核实"), view("imported_unverified").order_by("reverify_due", "-pk"),
               "view=imported_unverified&sort=reverify"),
        _queue(_("在档无计划"), view("no_plan").order_by("registered_on", "pk"), "view=no_plan"),
        _queue(_("在档无措施"), view("no_measures").order_by("registered_on", "pk"), "view=no_measures"),
        _queue(_("措施逾期"), view("overdue_measures").order_by("updated_at", "pk"), "view=overdue_measures"),
        _queue(_("在档未结对"), view("unpaired").order_by("registered_on", "pk"), "view=unpaired"),
        _queue(_("走访到期"), view("visit_due").order_by("counted_from", "pk"), "view=visit_due"),
    ]
