"""A payment batch's life: approve (maker-checker, within budget), hold a payment (voids an approval), send,
record the bank's return file, resolve what did not match, close; re-issue a failed payment once.

Every step is a conditional update on the status it leaves (and the batch's version where an edit could come
between): a repeated or concurrent request changes nothing the second time and is told so. The budgets are
updated under their rows' locks with the limit in the WHERE clause, so two approvals cannot both spend its
last yuan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from assistance import runs
from assistance.subsidy_models import (
    BankReturn,
    Discrepancy,
    FundBudget,
    FundSource,
    Payment,
    PaymentBatch,
    SkippedSchedule,
    SkipReason,
)
from hardship import idnumbers

Batch = PaymentBatch.Status
Pay = Payment.Status


class BatchError(Exception):
    """A step this batch or this user may not take now; the message says why."""


def _require(user, permission: str, batch: PaymentBatch) -> None:
    if not user.has_perm(permission, batch):
        raise BatchError(_("您没有权限办理这项发放业务。"))


def _move(batch: PaymentBatch, from_status: str, to_status: str, *, version: int | None = None, **fields) -> None:
    lookup = {"pk": batch.pk, "status": from_status}
    if version is not None:
        lookup["version"] = version
    moved = PaymentBatch.objects.filter(**lookup).update(status=to_status, version=F("version") + 1, **fields)
    if not moved:
        raise BatchError(_("批次状态已变化（可能已由他人办理），请刷新后查看。"))


def source_totals(batch: PaymentBatch) -> dict[str, Decimal]:
    rows = batch.payments.exclude(status=Pay.FAILED).values("fund_source").annotate(total=Sum("amount"))
    return {row["fund_source"]: row["total"] for row in rows}


def budget_shortfalls(batch: PaymentBatch) -> list[str]:
    """What the batch would overspend, per fund source (nothing: it fits)."""
    problems = []
    for source, total in sorted(source_totals(batch).items()):
        budget = FundBudget.objects.filter(union=batch.union_id, year=batch.period.year, fund_source=source).first()
        label = FundSource(source).label
        if budget is None:
            problems.append(_("%(year)s年%(source)s未设预算（本批次需 %(total)s 元）。")
                            % {"year": batch.period.year, "source": label, "total": total})
        elif budget.remaining < total:
            problems.append(_("%(source)s预算余额 %(left)s 元，本批次需 %(total)s 元，超出 %(over)s 元。")
                            % {"source": label, "left": budget.remaining, "total": total,
                               "over": total - budget.remaining})
    return problems


def _commit_budgets(batch: PaymentBatch, sign: int) -> None:
    for source, total in sorted(source_totals(batch).items()):
        _spend(batch.union_id, batch.period.year, source, sign * total)


def _spend(union_id: int, year: int, source: str, amount: Decimal) -> None:
    """Move a budget's committed amount; refused (BatchError) if it would go over the budget."""
    if not amount:
        return
    budgets = FundBudget.objects.filter(union_id=union_id, year=year, fund_source=source)
    if amount > 0:
        budgets = budgets.filter(committed__lte=F("amount") - amount)
    if not budgets.update(committed=F("committed") + amount):
        raise BatchError(_("%(source)s预算不足，不能审批。") % {"source": FundSource(source).label})


@transaction.atomic
def approve(batch: PaymentBatch, *, by) -> None:
    _require(by, "assistance.approve_batch", batch)
    locked = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
    if by.pk in locked.makers:
        raise BatchError(_("生成或修改过本批次的人不能审批本批次（审批须由另一位审核人办理）。"))
    if locked.status != Batch.DRAFT:
        raise BatchError(_("批次状态已变化（可能已由他人办理），请刷新后查看。"))
    if not locked.count:
        raise BatchError(_("批次没有发放明细，无需审批。"))
    if problems := budget_shortfalls(locked):
        raise BatchError(" ".join(problems))
    _commit_budgets(locked, +1)
    _move(locked, Batch.DRAFT, Batch.APPROVED, version=batch.version, approved_by=by, approved_at=timezone.now())


def _void_approval(batch: PaymentBatch) -> None:
    """An edit of an approved batch: back to DRAFT, its budget given back, the approval gone."""
    _commit_budgets(batch, -1)
    _move(batch, Batch.APPROVED, Batch.DRAFT, approved_by=None, approved_at=None)


@transaction.atomic
def hold(payment: Payment, *, by, note: str) -> None:
    """Take a pending payment out of its batch until released (an edit: the editor becomes a maker)."""
    batch = PaymentBatch.objects.select_for_update().get(pk=payment.batch_id)
    _require(by, "assistance.edit_batch", batch)
    if not note.strip():
        raise BatchError(_("请写明暂缓发放的原因。"))
    if batch.status not in (Batch.DRAFT, Batch.APPROVED):
        raise BatchError(_("批次已报送银行，不能再修改。"))
    if batch.status == Batch.APPROVED:
        _void_approval(batch)
    if not Payment.objects.filter(pk=payment.pk, batch=batch, status=Pay.PENDING).delete()[0]:
        raise BatchError(_("这笔发放已不在本批次中。"))
    SkippedSchedule.objects.update_or_create(
        batch=batch, schedule=payment.schedule if payment.schedule_id else None,
        household_id=payment.household_id, defaults={"reason": SkipReason.HELD, "note": note.strip()[:200]})
    runs.refresh_totals(batch, maker=by)


@transaction.atomic
def release(skip: SkippedSchedule, *, by) -> None:
    """Undo a hold: the next run of the period pays the schedule again (if it is still due)."""
    batch = PaymentBatch.objects.select_for_update().get(pk=skip.batch_id)
    _require(by, "assistance.edit_batch", batch)
    if batch.status not in (Batch.DRAFT, Batch.APPROVED):
        raise BatchError(_("批次已报送银行，不能再修改。"))
    SkippedSchedule.objects.filter(pk=skip.pk, reason=SkipReason.HELD).delete()


@transaction.atomic
def mark_sent(batch: PaymentBatch, *, by) -> None:
    _require(by, "assistance.send_batch", batch)
    _move(batch, Batch.APPROVED, Batch.SENT, sent_by=by, sent_at=timezone.now())
    batch.payments.filter(status=Pay.PENDING).update(status=Pay.SENT)


# The return file ----------------------------------------------------------------------------------------------

@dataclass
class ReturnLine:
    line: int
    account: str
    name: str
    amount: Decimal
    paid: bool
    reason: str = ""


@dataclass
class ReturnOutcome:
    paid: int = 0
    failed: int = 0
    unchanged: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)
    closed: bool = False


@transaction.atomic
def record_return(batch: PaymentBatch, lines: list[ReturnLine], *, by, filename: str) -> ReturnOutcome:
    """Match the bank's lines to the batch's payments, settle what matches, flag what does not."""
    _require(by, "assistance.send_batch", batch)
    batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != Batch.SENT:
        raise BatchError(_("只有已报送银行的批次可以导入回盘文件。"))
    record = BankReturn.objects.create(batch=batch, filename=filename[:200], lines=len(lines), paid=0, failed=0,
                                       recorded_by=by)
    matcher = _Matcher(batch, record)
    for line in lines:
        matcher.take(line)
    matcher.flag_missing()
    outcome = matcher.outcome
    BankReturn.objects.filter(pk=record.pk).update(paid=outcome.paid, failed=outcome.failed)
    outcome.closed = _close_if_settled(batch)
    return outcome


class _Matcher:
    def __init__(self, batch: PaymentBatch, record: BankReturn) -> None:
        self.batch, self.record = batch, record
        self.by_account: dict[str, list[Payment]] = {}
        for payment in batch.payments.select_for_update().order_by("pk"):
            self.by_account.setdefault(str(payment.account), []).append(payment)
        self.matched: set[int] = set()
        self.outcome = ReturnOutcome()

    def _flag(self, kind: str, line: ReturnLine | None, payment: Payment | None = None, detail: str = "") -> None:
        account = line.account if line else str(payment.account)
        self.outcome.discrepancies.append(Discrepancy.objects.create(
            batch=self.batch, bank_return=self.record, kind=kind, line=line.line if line else None, payment=payment,
            account_masked=idnumbers.mask(account), returned_amount=line.amount if line else None,
            detail=idnumbers.mask_numbers(detail)[:300]))

    def take(self, line: ReturnLine) -> None:
        candidates = [p for p in self.by_account.get(line.account, []) if p.pk not in self.matched]
        if line.account not in self.by_account:
            self._flag(Discrepancy.Kind.UNKNOWN_ACCOUNT, line, detail=line.name)
            return
        same = [p for p in candidates if p.amount == line.amount]
        if not same:
            if candidates:  # returned, with another amount: flagged as that, not as missing too
                self.matched.add(candidates[0].pk)
                self._flag(Discrepancy.Kind.AMOUNT_MISMATCH, line, candidates[0],
                           _("本批次 %(sent)s 元，银行返回 %(back)s 元") % {"sent": candidates[0].amount,
                                                                     "back": line.amount})
            else:
                self._flag(Discrepancy.Kind.DUPLICATE_LINE, line, self.by_account[line.account][0],
                           _("该账号在回盘文件中重复出现"))
            return
        payment = same[0]
        self.matched.add(payment.pk)
        self._settle(payment, line)

    def _settle(self, payment: Payment, line: ReturnLine) -> None:
        to_status = Pay.PAID if line.paid else Pay.FAILED
        if payment.status != Pay.SENT:
            if payment.status != to_status:
                self._flag(Discrepancy.Kind.DUPLICATE_LINE, line, payment,
                           _("与此前回盘结果不一致（此前为%(before)s）") % {"before": payment.get_status_display()})
            else:
                self.outcome.unchanged += 1
            return
        settle(payment, paid=line.paid, reason=line.reason)
        _resolve_missing(payment, self.record)
        if line.paid:
            self.outcome.paid += 1
        else:
            self.outcome.failed += 1

    def flag_missing(self) -> None:
        waiting = Discrepancy.objects.filter(batch=self.batch, kind=Discrepancy.Kind.MISSING_LINE,
                                             resolved_at__isnull=True).values_list("payment_id", flat=True)
        already = set(waiting)
        for payments in self.by_account.values():
            for payment in payments:
                if payment.pk not in self.matched and payment.status == Pay.SENT and payment.pk not in already:
                    self._flag(Discrepancy.Kind.MISSING_LINE, None, payment, payment.account_name)


def settle(payment: Payment, *, paid: bool, reason: str = "") -> bool:
    """SENT → PAID or FAILED (a failure gives its amount back to the budget); False if it was settled already."""
    to_status = Pay.PAID if paid else Pay.FAILED
    moved = Payment.objects.filter(pk=payment.pk, status=Pay.SENT).update(
        status=to_status, failure_reason="" if paid else (reason.strip() or _("银行未说明原因"))[:200],
        settled_at=timezone.now())
    if moved and not paid:
        batch = payment.batch
        _spend(batch.union_id, batch.period.year, payment.fund_source, -payment.amount)
    return bool(moved)


def _resolve_missing(payment: Payment, record: BankReturn) -> None:
    Discrepancy.objects.filter(payment=payment, kind=Discrepancy.Kind.MISSING_LINE, resolved_at__isnull=True).update(
        resolved_by=record.recorded_by, resolved_at=timezone.now(), resolution=_("已由后续回盘文件确认"))


@transaction.atomic
def resolve(discrepancy: Discrepancy, *, by, resolution: str, outcome: str = "", reason: str = "") -> bool:
    """Close a discrepancy with what was done about it; a payment still waiting is settled paid or failed.
    Returns whether the batch closed."""
    batch = PaymentBatch.objects.select_for_update().get(pk=discrepancy.batch_id)
    _require(by, "assistance.send_batch", batch)
    if not resolution.strip():
        raise BatchError(_("请写明处理情况。"))
    payment = discrepancy.payment
    if payment is not None:
        payment.refresh_from_db()
    if payment is not None and payment.status == Pay.SENT and discrepancy.kind != Discrepancy.Kind.DUPLICATE_LINE:
        if outcome not in ("paid", "failed"):
            raise BatchError(_("这笔发放尚无结果：请选择“已到账”或“发放失败”。"))
        settle(payment, paid=outcome == "paid", reason=reason or resolution)
    if not Discrepancy.objects.filter(pk=discrepancy.pk, resolved_at__isnull=True).update(
            resolved_by=by, resolved_at=timezone.now(), resolution=resolution.strip()[:300]):
        raise BatchError(_("该差异已处理。"))
    return _close_if_settled(batch)


def _close_if_settled(batch: PaymentBatch) -> bool:
    if batch.payments.filter(status=Pay.SENT).exists() or batch.discrepancies.filter(resolved_at__isnull=True).exists():
        return False
    _move(batch, Batch.SENT, Batch.CLOSED, closed_at=timezone.now())
    return True


# Re-issue -----------------------------------------------------------------------------------------------------

@transaction.atomic
def reissue(payment: Payment, *, by) -> Payment:
    """A failed payment paid again, once, in the union's next open batch (this period's draft, else the next
    period's), to the household's bank card as it is now."""
    original = Payment.objects.select_for_update().select_related("batch", "household").get(pk=payment.pk)
    _require(by, "assistance.edit_batch", original.batch)
    if original.status != Pay.FAILED:
        raise BatchError(_("只有发放失败的款项可以补发。"))
    if original.reissue_of_id or Payment.objects.filter(reissue_of=original).exists():
        raise BatchError(_("这笔款项已补发过一次，不能再次补发。"))
    household = original.household
    if household.status not in runs.payable_statuses(original.kind):
        raise BatchError(_("该家庭已不在档，不能补发。"))
    if not household.bank_card:
        raise BatchError(_("该家庭未登记银行卡，请先更正银行卡信息。"))
    batch = _open_batch_after(original)
    return _insert_reissue(original, batch, household, by)


def _open_batch_after(original: Payment) -> PaymentBatch:
    period = max(runs.first_of_month(timezone.localdate()), original.batch.period + relativedelta(months=1))
    for _attempt in range(24):
        runs._lock_union(original.batch.union_id)
        batch = runs._batch_for(original.batch.union_id, period)
        if batch.status == Batch.DRAFT:
            return batch
        period += relativedelta(months=1)
    raise BatchError(_("找不到可补发的批次。"))


def _insert_reissue(original: Payment, batch: PaymentBatch, household, by) -> Payment:
    try:
        with transaction.atomic():
            copy = Payment.objects.create(
                batch=batch, household=household, schedule=original.schedule, campaign=original.campaign,
                kind=original.kind, period=original.period, amount=original.amount,
                fund_source=original.fund_source, account_name=household.head_name, bank_name=household.bank_name,
                account=household.bank_card, memo=(_("补发") + " " + original.memo)[:100], reissue_of=original)
    except IntegrityError as error:
        raise BatchError(_("这笔款项已补发过一次，不能再次补发。")) from error
    runs.refresh_totals(batch, maker=by)
    return copy


# Figures for the pages ----------------------------------------------------------------------------------------

def status_counts(batch: PaymentBatch) -> dict[str, int]:
    return dict(batch.payments.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))


def check_total(batch_id: int) -> bool:
    """Whether a batch's stored total and count equal its payments' (tests and the admin's check)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT b.total = coalesce(sum(p.amount), 0) AND b.count = count(p.id) FROM"
                       " assistance_paymentbatch b LEFT JOIN assistance_payment p ON p.batch_id = b.id"
                       " WHERE b.id = %s GROUP BY b.id", [batch_id])
        return cursor.fetchone()[0]

