"""Subsidy pages: a household's schedules and payments (in its file), the batches of a subtree with their run,
approval, bank file, return file and discrepancies, the public-disclosure list, fund budgets and 送温暖 campaigns.

Everything is found through the user's scope (out of scope: 404) and then checked against the role (403).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from kombu.exceptions import OperationalError as BrokerError

from assistance import bankfiles, batches, disclosure, subsidies
from assistance.runs import unions_due
from assistance.subsidy_forms import (
    BudgetForm,
    HoldForm,
    ResolveForm,
    ReturnFileForm,
    RunForm,
    ScheduleForm,
    ScheduleStatusForm,
)
from assistance.subsidy_models import (
    Discrepancy,
    FundBudget,
    FundSource,
    Payment,
    PaymentBatch,
    Schedule,
    SkippedSchedule,
    SkipReason,
)
from dossiers.models import Household
from hardship import audit, exports
from hardship.access import get_visible_or_404
from hardship.history import object_history
from hardship.models import AccessRecord, Union

no_store = cache_control(no_store=True, private=True)
PAGE = 100


def _require(request: HttpRequest, permission: str, obj=None) -> None:
    if not request.user.has_perm(permission, obj):
        raise PermissionDenied


def _batch(request: HttpRequest, pk: int) -> PaymentBatch:
    batch = get_visible_or_404(PaymentBatch.objects.select_related("union", "campaign", "approved_by", "sent_by"),
                               request.user, pk=pk)
    _require(request, "assistance.view_batch", batch)
    return batch


def _refused(request: HttpRequest, error: Exception, batch: PaymentBatch) -> HttpResponse:
    messages.error(request, str(error))
    return redirect("subsidies:batch", pk=batch.pk)


# A household's schedules and payments ----------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
@no_store
def household_subsidies(request: HttpRequest, file_number: str) -> HttpResponse:
    household = get_visible_or_404(Household.objects.select_related("union", "region"), request.user,
                                   file_number=file_number)
    _require(request, "dossiers.view_household", household)
    can_change = request.user.has_perm("assistance.change_schedule", household)
    form = ScheduleForm(request.POST or None)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            schedule = form.save(commit=False)
            schedule.household = household
            try:
                subsidies.save_schedule(schedule, by=request.user)
            except subsidies.SubsidyError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("已设立补助。"))
                return redirect("subsidies:household", file_number=household.file_number)
    schedules = household.subsidy_schedules.select_related("approved_by").order_by("-first_period", "-pk")
    payments = (household.payments.select_related("batch", "reissue_of").order_by("-period", "-pk")[:120])
    year = timezone.localdate().year
    return render(request, "assistance/subsidies/household.html", {
        "household": household, "schedules": schedules, "payments": payments, "form": form,
        "can_change": can_change, "status_form": ScheduleStatusForm(),
        "year": year, "cap": subsidies.annual_cap(household, subsidies.current_period()),
        "booked": subsidies.projected_living_aid(household, year),
    }, status=422 if request.method == "POST" else 200)


@login_required
@require_POST
def schedule_status(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_visible_or_404(Schedule.objects.select_related("household"), request.user, pk=pk)
    _require(request, "assistance.change_schedule", schedule.household)
    form = ScheduleStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择操作并写明原因。"))
    else:
        try:
            subsidies.set_status(schedule, form.cleaned_data["status"], by=request.user,
                                 reason=form.cleaned_data["reason"])
            messages.success(request, _("已更新补助状态。"))
        except subsidies.SubsidyError as error:
            messages.error(request, str(error))
    return redirect("subsidies:household", file_number=schedule.household.file_number)


# Batches ---------------------------------------------------------------------------------------------------------

@login_required
@require_GET
@no_store
def batch_list(request: HttpRequest) -> HttpResponse:
    _require(request, "assistance.view_batch")
    status = request.GET.get("status", "")
    rows = PaymentBatch.objects.visible_to(request.user).select_related("union", "campaign")
    if status in PaymentBatch.Status.values:
        rows = rows.filter(status=status)
    rows = rows.annotate(skipped_count=Count("skipped", distinct=True)).order_by("-period", "union__path", "pk")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "assistance/subsidies/batch_list.html", {
        "page": page, "status": status, "statuses": PaymentBatch.Status.choices,
        "run_form": RunForm(initial={"period": subsidies.current_period()}),
        "can_run": request.user.has_perm("assistance.run_batch"),
    })


@login_required
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    """The supervisor's button: the period's run for the unions of their subtree, queued for the worker."""
    from assistance.tasks import run_subsidies

    _require(request, "assistance.run_batch")
    form = RunForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["period"]))
        return redirect("subsidies:batches")
    period = form.cleaned_data["period"]
    subtree = set(Union.objects.visible_to(request.user).values_list("pk", flat=True))
    union_ids = [pk for pk in unions_due(period) if pk in subtree]
    if not union_ids:
        messages.info(request, _("%(period)s 没有需要发放的补助。") % {"period": f"{period:%Y-%m}"})
        return redirect("subsidies:batches")
    try:  # nothing is written before it: queued at once, so a broker that is down is reported here
        run_subsidies.apply_async((f"{period:%Y-%m}", union_ids, request.user.pk), retry=False)
    except BrokerError:
        messages.error(request, _("任务队列暂时不可用，发放批次未生成。请稍后重试。"))
        return redirect("subsidies:batches")
    messages.success(request, _("已开始生成 %(period)s 的发放批次（%(n)s 个单位），稍后刷新本页查看。")
                     % {"period": f"{period:%Y-%m}", "n": len(union_ids)})
    return redirect("subsidies:batches")


@login_required
@require_GET
@no_store
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    status = request.GET.get("status", "")
    payments = batch.payments.select_related("household", "reissue_of").order_by("pk")
    if status in Payment.Status.values:
        payments = payments.filter(status=status)
    skipped = batch.skipped.select_related("household", "schedule").order_by("reason", "pk")
    user = request.user
    return render(request, "assistance/subsidies/batch_detail.html", {
        "batch": batch, "page": Paginator(payments, PAGE).get_page(request.GET.get("page")), "status": status,
        "counts": batches.status_counts(batch),
        "skip_counts": skipped.values("reason").annotate(n=Count("pk")).order_by("reason"),
        "skipped": skipped[:200], "reasons": dict(SkipReason.choices),
        "discrepancies": batch.discrepancies.select_related("resolved_by", "payment").order_by("resolved_at", "pk"),
        "returns": batch.returns.select_related("recorded_by"),
        "budgets": _budget_rows(batch), "problems": batches.budget_shortfalls(batch) if batch.status == "draft" else [],
        "is_maker": user.pk in batch.makers,
        "can": {action: user.has_perm(f"assistance.{action}", batch)
                for action in ("approve_batch", "edit_batch", "send_batch", "export_bank_file")},
        "layouts": bankfiles.layouts(), "return_form": ReturnFileForm(), "resolve_form": ResolveForm(),
        "history": object_history(batch)[:30],
    })


def _budget_rows(batch: PaymentBatch) -> list[dict]:
    totals = batches.source_totals(batch)
    budgets = {b.fund_source: b for b in FundBudget.objects.filter(union=batch.union_id, year=batch.period.year)}
    return [{"source": source, "source_label": FundSource(source).label, "total": total, "budget": budgets.get(source)}
            for source, total in sorted(totals.items())]


def _post_step(permission: str):
    """A view for a batch step: the batch from scope, the role's permission (403), the step, its refusal as a
    message."""
    return lambda step: _step_view(step, permission)


def _step_view(step, permission: str):
    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        batch = _batch(request, pk)
        _require(request, permission, batch)
        try:
            message = step(request, batch)
        except batches.BatchError as error:
            return _refused(request, error, batch)
        messages.success(request, message)
        return redirect("subsidies:batch", pk=batch.pk)

    view.__name__ = step.__name__
    return view


@_post_step("assistance.approve_batch")
def approve(request: HttpRequest, batch: PaymentBatch) -> str:
    batches.approve(batch, by=request.user)
    return _("已审批，可导出代发文件。")


@_post_step("assistance.send_batch")
def send(request: HttpRequest, batch: PaymentBatch) -> str:
    batches.mark_sent(batch, by=request.user)
    return _("已标记为报送银行，请在银行返回后导入回盘文件。")


@_post_step("assistance.send_batch")
def record_return(request: HttpRequest, batch: PaymentBatch) -> str:
    form = ReturnFileForm(request.POST, request.FILES)
    if not form.is_valid():
        raise batches.BatchError(_("请选择银行回盘文件。"))
    upload = form.cleaned_data["file"]
    if upload.size > bankfiles.settings.BANK_RETURN_MAX_BYTES:
        raise batches.BatchError(_("文件过大（上限 %(max)s MB）。")
                                 % {"max": bankfiles.settings.BANK_RETURN_MAX_BYTES // 2**20})
    try:
        parsed = bankfiles.parse_return(upload.read(), upload.name)
    except bankfiles.ReturnFileError as error:
        lines = "；".join(_("第 %(line)s 行：%(problem)s") % {"line": n, "problem": p} for n, p in error.problems[:20])
        raise batches.BatchError(f"{error} {lines}".strip()) from error
    outcome = batches.record_return(batch, parsed.lines, by=request.user, filename=upload.name)
    audit.record(request, AccessRecord.Action.IMPORT, _("银行回盘文件 %(name)s：%(batch)s")
                 % {"name": upload.name, "batch": batch}, union=batch.union)
    text = _("已导入回盘文件：到账 %(paid)s 笔，失败 %(failed)s 笔，差异 %(diff)s 项。") % {
        "paid": outcome.paid, "failed": outcome.failed, "diff": len(outcome.discrepancies)}
    return text + (_("批次已结清。") if outcome.closed else "")


@login_required
@require_GET
def export(request: HttpRequest, pk: int, file_format: str) -> HttpResponse:
    """The bank's disbursement file, with full account numbers: supervisors of the subtree only, each export in the
    access log."""
    batch = _batch(request, pk)
    _require(request, "assistance.export_bank_file", batch)
    layout = request.GET.get("layout", "default")
    if file_format not in ("csv", "xlsx") or layout not in bankfiles.layouts():
        raise Http404
    if batch.status not in (PaymentBatch.Status.APPROVED, PaymentBatch.Status.SENT):
        messages.error(request, _("批次审批后才能导出代发文件。"))
        return redirect("subsidies:batch", pk=batch.pk)
    headers, rows = bankfiles.disbursement_table(batch, layout)
    audit.record(request, AccessRecord.Action.EXPORT, _("代发文件 %(batch)s（%(layout)s，%(n)s 笔）")
                 % {"batch": batch, "layout": layout, "n": len(rows)}, union=batch.union)
    name = f"代发-{batch.union.code}-{batch.period:%Y%m}-{batch.pk}"
    content = exports.table_content(file_format, headers, rows, title=name)
    response = exports.attachment(content, file_format, name)
    response["Cache-Control"] = "no-store, private"
    return response


@login_required
@require_GET
@no_store
def disclosure_list(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    payments = (batch.payments.exclude(status=Payment.Status.FAILED).select_related("household__union")
                .order_by("household__file_number", "pk"))
    lines = [disclosure.line(payment) for payment in payments]
    return render(request, "assistance/subsidies/disclosure.html", {
        "batch": batch, "lines": lines, "total": sum((line.amount for line in lines), start=0),
        "today": timezone.localdate(),
    })


def _payment(request: HttpRequest, pk: int) -> Payment:
    payment = get_visible_or_404(Payment.objects.select_related("batch__union", "household"), request.user, pk=pk)
    _require(request, "assistance.edit_batch", payment.batch)
    return payment


@login_required
@require_POST
def hold(request: HttpRequest, pk: int) -> HttpResponse:
    payment = _payment(request, pk)
    form = HoldForm(request.POST)
    try:
        batches.hold(payment, by=request.user, note=form.data.get("note", ""))
    except batches.BatchError as error:
        return _refused(request, error, payment.batch)
    messages.success(request, _("已暂缓发放 %(name)s 的款项。") % {"name": payment.account_name})
    return redirect("subsidies:batch", pk=payment.batch_id)


@login_required
@require_POST
def reissue(request: HttpRequest, pk: int) -> HttpResponse:
    payment = _payment(request, pk)
    try:
        copy = batches.reissue(payment, by=request.user)
    except batches.BatchError as error:
        return _refused(request, error, payment.batch)
    messages.success(request, _("已补发，列入 %(batch)s 批次。") % {"batch": copy.batch})
    return redirect("subsidies:batch", pk=copy.batch_id)


@login_required
@require_POST
def release(request: HttpRequest, pk: int) -> HttpResponse:
    skip = get_object_or_404(SkippedSchedule.objects.select_related("batch__union"), pk=pk)
    batch = _batch(request, skip.batch_id)
    _require(request, "assistance.edit_batch", batch)
    try:
        batches.release(skip, by=request.user)
    except batches.BatchError as error:
        return _refused(request, error, batch)
    messages.success(request, _("已取消暂缓，重新生成本月批次时将再次列入。"))
    return redirect("subsidies:batch", pk=batch.pk)


@login_required
@require_POST
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    discrepancy = get_object_or_404(Discrepancy.objects.select_related("batch"), pk=pk)
    batch = _batch(request, discrepancy.batch_id)
    _require(request, "assistance.send_batch", batch)
    form = ResolveForm(request.POST)
    try:
        if not form.is_valid():
            raise batches.BatchError(_("请写明处理情况。"))
        closed = batches.resolve(discrepancy, by=request.user, resolution=form.cleaned_data["resolution"],
                                 outcome=form.cleaned_data["outcome"])
    except batches.BatchError as error:
        return _refused(request, error, batch)
    messages.success(request, _("差异已处理。") + (_("批次已结清。") if closed else ""))
    return redirect("subsidies:batch", pk=batch.pk)


# Budgets -----------------------------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
@no_store
def budgets(request: HttpRequest) -> HttpResponse:
    _require(request, "assistance.view_batch")
    can_change = request.user.has_perm("assistance.change_budget")
    form = None
    if can_change and request.user.home_union:
        form = BudgetForm(request.POST or None, instance=_budget_posted(request), user=request.user)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            form.save()
            messages.success(request, _("已保存预算。"))
            return redirect("subsidies:budgets")
    year = _year(request)
    rows = (FundBudget.objects.visible_to(request.user).filter(year=year).select_related("union")
            .order_by("union__path", "fund_source"))
    return render(request, "assistance/subsidies/budgets.html", {
        "rows": rows, "form": form, "year": year, "years": range(year - 3, year + 2),
        "totals": rows.aggregate(amount=Sum("amount"), committed=Sum("committed")),
    }, status=422 if request.method == "POST" else 200)


def _year(request: HttpRequest) -> int:
    text = request.GET.get("year", "")
    return int(text) if text.isdigit() and 2000 <= int(text) <= 2100 else timezone.localdate().year


def _budget_posted(request: HttpRequest) -> FundBudget | None:
    """The budget a POST names by union, year and source, if it exists: saving adjusts it."""
    data = request.POST
    if request.method != "POST" or not all(data.get(k, "").isdigit() for k in ("union", "year")):
        return None
    return FundBudget.objects.visible_to(request.user).filter(
        union_id=data["union"], year=data["year"], fund_source=data.get("fund_source", "")).first()


# The approval queue of a supervisor's home page -------------------------------------------------------------------

def approval_queue(user, limit: int = 10):
    """Draft batches of the user's subtree that they may approve (not generated or edited by them)."""
    if not user.has_perm("assistance.approve_batch"):
        return PaymentBatch.objects.none()
    return (PaymentBatch.objects.visible_to(user).filter(status=PaymentBatch.Status.DRAFT, count__gt=0)
            .exclude(makers__contains=[user.pk]).select_related("union", "campaign").order_by("period", "pk")[:limit])


def open_discrepancies(user) -> int:
    return (Discrepancy.objects.filter(resolved_at__isnull=True)
            .filter(Q(batch__union__path__startswith=user.home_union.path) if user.home_union else Q()).count())
