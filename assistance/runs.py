"""The subsidy run: a period's draft batch per union, generated set-based in SQL.

run_period is the one entry point: the monthly beat task, the supervisor's button (through a task) and
`manage.py run_subsidies` all call it. Each union's batch is generated in one transaction under the union's
advisory lock, by one INSERT … SELECT … ON CONFLICT DO NOTHING: a payment is unique per (schedule, period), so
the same period run twice, two runs at once or a task redelivered after its worker died pay each schedule once.
Every schedule that was due and not paid is listed with the reason (SkippedSchedule).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from assistance.subsidy_models import Campaign, PaymentBatch, Schedule, SubsidyKind, first_of_month
from dossiers.choices import ON_REGISTER_STATUSES, Status


@dataclass
class RunResult:
    batch: PaymentBatch
    created: int
    amount: Decimal
    skips_changed: int
    locked: bool = False  # the batch was already approved or further: nothing could be added


def parse_period(text: str) -> datetime.date:
    """'2026-12' → 2026-12-01; ValueError otherwise."""
    year, _sep, month = text.strip().partition("-")
    if not (year.isdigit() and month.isdigit() and len(year) == 4 and 1 <= int(month) <= 12):
        raise ValueError(_("月份应写作 YYYY-MM，如 2026-12。"))
    return datetime.date(int(year), int(month), 1)


def unions_due(period: datetime.date) -> list[int]:
    return sorted(set(Schedule.objects.exclude(status=Schedule.Status.ENDED).filter(first_period__lte=period)
                      .values_list("union_id", flat=True)))


def run_period(period: datetime.date, *, union_ids=None, by=None) -> list[RunResult]:
    """Generate (or complete) the period's draft batch of each union (by default every union with schedules)."""
    period = first_of_month(period)
    return [generate(union_id, period, by=by) for union_id in (union_ids or unions_due(period))]


@transaction.atomic
def generate(union_id: int, period: datetime.date, *, by=None) -> RunResult:
    _lock_union(union_id)
    batch = _batch_for(union_id, period)
    if batch.status != PaymentBatch.Status.DRAFT:
        return RunResult(batch, 0, Decimal("0.00"), 0, locked=True)
    created, amount, skips = _insert_payments(batch)
    return _finish(batch, created, amount, skips, by)


@transaction.atomic
def generate_campaign(campaign: Campaign, *, by=None) -> RunResult:
    """The campaign's one-off payments, in one batch of the campaign's union, unique per (campaign, household)."""
    _lock_union(campaign.union_id)
    batch = _batch_for(campaign.union_id, campaign.period, campaign=campaign)
    if batch.status != PaymentBatch.Status.DRAFT:
        return RunResult(batch, 0, Decimal("0.00"), 0, locked=True)
    created, amount, skips = _insert_campaign_payments(batch, campaign)
    return _finish(batch, created, amount, skips, by)


def _finish(batch: PaymentBatch, created: int, amount: Decimal, skips: int, by) -> RunResult:
    if created:
        refresh_totals(batch, maker=by)
    elif by is not None and not batch.count and by.pk not in batch.makers:
        PaymentBatch.objects.filter(pk=batch.pk).update(makers=[*batch.makers, by.pk])
    batch.refresh_from_db()
    return RunResult(batch, created, amount, skips)


def _lock_union(union_id: int) -> None:
    """One run at a time per union (the unique constraints would hold without it; this keeps the yearly cap exact
    when two periods of one union run at once)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('assistance.run'), %s::int)", [union_id])


def _batch_for(union_id: int, period: datetime.date, campaign: Campaign | None = None) -> PaymentBatch:
    target = ("(union_id, campaign_id) WHERE campaign_id IS NOT NULL" if campaign
              else "(union_id, period) WHERE campaign_id IS NULL")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO assistance_paymentbatch (union_id, period, campaign_id, status, total, count, version,"
            " makers, generated_at) VALUES (%s, %s, %s, 'draft', 0, 0, 0, '{}', now())"
            f" ON CONFLICT {target} DO NOTHING",
            [union_id, period, campaign.pk if campaign else None])
    lookup = {"campaign": campaign} if campaign else {"period": period, "campaign__isnull": True}
    return PaymentBatch.objects.select_for_update().get(union_id=union_id, **lookup)


def refresh_totals(batch: PaymentBatch, *, maker=None) -> None:
    """The batch's total and count from its payments (the only source), a new version, and the maker recorded."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE assistance_paymentbatch b SET total = s.total, count = s.count, version = b.version + 1,"
            " makers = CASE WHEN %(maker)s::bigint IS NULL OR %(maker)s::bigint = ANY(b.makers) THEN b.makers"
            "               ELSE array_append(b.makers, %(maker)s::bigint) END"
            " FROM (SELECT coalesce(sum(amount), 0) AS total, count(*) AS count FROM assistance_payment"
            "       WHERE batch_id = %(batch)s) s WHERE b.id = %(batch)s",
            {"batch": batch.pk, "maker": maker.pk if maker else None})


def _labels() -> dict:
    return {f"label_{kind.value}": str(kind.label) for kind in SubsidyKind}


def _memo(period: datetime.date) -> str:
    return _("%(year)s年%(month)s月") % {"year": period.year, "month": period.month}


MEMO_SQL = ("left(%(memo)s || CASE kind " + " ".join(f"WHEN '{kind.value}' THEN %(label_{kind.value})s"
                                                      for kind in SubsidyKind) + " END || ' ' || file_number, 100)")

# A relieved (解困) file is closed, its members too (dossiers.register.member_is_open), yet its living subsidy goes
# on: its household is still all its members.
# The standard in force for a household: its county's, else its prefecture's, else its province's (as
# LocalStandard.in_force), from one pass over the standards.
STANDARDS_SQL = """
    std AS (
        SELECT DISTINCT ON (region_id) region_id, poverty_line FROM dossiers_localstandard
         WHERE effective_from <= %(period_end)s ORDER BY region_id, effective_from DESC
    )"""

SCHEDULE_RUN_SQL = f"""
WITH {STANDARDS_SQL},
unpaid AS MATERIALIZED (
    -- The schedules of the union still due this period: on a re-run none, and nothing else is read.
    SELECT s.id, s.household_id, s.kind, s.amount, s.fund_source, s.status, s.last_period
      FROM assistance_schedule s
     WHERE s.union_id = %(union)s AND s.first_period <= %(period)s
       AND (s.last_period IS NULL OR s.last_period >= %(recent)s)
       AND (s.frequency = 'monthly' OR (s.frequency = 'quarterly' AND %(quarter_start)s)
            OR (s.frequency = 'once' AND s.first_period = %(period)s))
       AND NOT EXISTS (SELECT 1 FROM assistance_payment p
                        WHERE p.schedule_id = s.id AND p.period = %(period)s AND p.reissue_of_id IS NULL)
       AND NOT EXISTS (SELECT 1 FROM assistance_skippedschedule k
                        WHERE k.batch_id = %(batch)s AND k.schedule_id = s.id AND k.reason = 'held')
),
due AS (
    SELECT u.id AS schedule_id, u.household_id, u.kind, u.amount, u.fund_source, u.status AS schedule_status,
           u.last_period, h.status AS household_status, h.bank_card, h.bank_name, h.head_name, h.file_number,
           h.region_id
      FROM unpaid u JOIN dossiers_household h ON h.id = u.household_id
),
judged AS (
    SELECT d.*, CASE
        WHEN d.last_period < %(period)s THEN 'ended'
        WHEN NOT (d.household_status = ANY(%(on_register)s)
                  OR (%(relief_keeps)s AND d.kind = 'living' AND d.household_status = 'relieved')) THEN 'left_register'
        WHEN d.schedule_status = 'suspended' THEN 'suspended'
        WHEN coalesce(d.bank_card, '') = '' THEN 'no_bank_card'
    END AS reason
    FROM due d
),
living AS (
    SELECT household_id, region_id, household_status, sum(amount) AS this_period FROM judged
     WHERE reason IS NULL AND kind = 'living' GROUP BY household_id, region_id, household_status
),
sizes AS (
    SELECT m.household_id, count(*) AS size
      FROM dossiers_member m JOIN living l ON l.household_id = m.household_id
     WHERE m.is_open OR l.household_status = 'relieved'
     GROUP BY m.household_id
),
capped AS (
    SELECT l.household_id,
           coalesce(y.amount, 0) + l.this_period
             - coalesce(sc.poverty_line, sp.poverty_line, sv.poverty_line) * coalesce(z.size, 0) * %(cap_months)s
             AS exceeds_by
      FROM living l
      LEFT JOIN sizes z ON z.household_id = l.household_id
      LEFT JOIN assistance_livingaidyear y ON y.household_id = l.household_id AND y.year = %(year)s
      LEFT JOIN std sc ON sc.region_id = l.region_id
      LEFT JOIN std sp ON sp.region_id = substr(l.region_id, 1, 4) || '00'
      LEFT JOIN std sv ON sv.region_id = substr(l.region_id, 1, 2) || '0000'
),
final AS (
    SELECT j.*, c.exceeds_by,
           CASE WHEN j.reason IS NULL AND j.kind = 'living' AND (c.exceeds_by IS NULL OR c.exceeds_by > 0)
                THEN 'over_cap' ELSE j.reason END AS final_reason
      FROM judged j LEFT JOIN capped c ON c.household_id = j.household_id AND j.kind = 'living'
),
inserted AS (
    INSERT INTO assistance_payment (batch_id, household_id, schedule_id, kind, period, amount, fund_source,
                                    account_name, bank_name, account, memo, status, failure_reason, created_at)
    SELECT %(batch)s, household_id, schedule_id, kind, %(period)s, amount, fund_source, head_name, bank_name,
           bank_card, {MEMO_SQL}, 'pending', '', now()
      FROM final WHERE final_reason IS NULL
    ON CONFLICT DO NOTHING
    RETURNING amount
),
skips AS (
    INSERT INTO assistance_skippedschedule (batch_id, household_id, schedule_id, reason, exceeds_by, note)
    SELECT %(batch)s, household_id, schedule_id, final_reason,
           CASE WHEN final_reason = 'over_cap' THEN exceeds_by END, ''
      FROM final WHERE final_reason IS NOT NULL
    ON CONFLICT (batch_id, schedule_id) WHERE schedule_id IS NOT NULL DO UPDATE
       SET reason = EXCLUDED.reason, exceeds_by = EXCLUDED.exceeds_by
     WHERE (assistance_skippedschedule.reason, assistance_skippedschedule.exceeds_by)
           IS DISTINCT FROM (EXCLUDED.reason, EXCLUDED.exceeds_by)
    RETURNING 1
),
cleared AS (
    DELETE FROM assistance_skippedschedule k USING final f
     WHERE k.batch_id = %(batch)s AND k.schedule_id = f.schedule_id AND f.final_reason IS NULL AND k.reason <> 'held'
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted), (SELECT coalesce(sum(amount), 0)::numeric(14, 2) FROM inserted),
       (SELECT count(*) FROM skips) + (SELECT count(*) FROM cleared)
"""


def _common_params(batch: PaymentBatch) -> dict:
    period = batch.period
    return {
        "batch": batch.pk, "union": batch.union_id, "period": period,
        "period_end": period + relativedelta(months=1, days=-1), "year": period.year,
        "on_register": list(ON_REGISTER_STATUSES), "memo": _memo(period), **_labels(),
    }


def _insert_payments(batch: PaymentBatch) -> tuple[int, Decimal, int]:
    period = batch.period
    params = {
        **_common_params(batch),
        "recent": period - relativedelta(months=3), "quarter_start": period.month % 3 == 1,
        "relief_keeps": settings.SUBSIDY_RELIEF_KEEPS_LIVING, "cap_months": settings.SUBSIDY_CAP_MONTHS,
    }
    with connection.cursor() as cursor:
        cursor.execute(SCHEDULE_RUN_SQL, params)
        created, amount, skips = cursor.fetchone()
    return created, amount, skips


CAMPAIGN_RUN_SQL = """
WITH chosen AS (
    SELECT h.id AS household_id, h.status, h.bank_card, h.bank_name, h.head_name, h.file_number, 'warmth' AS kind,
           (%(amounts)s::jsonb ->> h.category)::numeric(12, 2) AS amount
      FROM dossiers_household h JOIN hardship_union u ON u.id = h.union_id
     WHERE u.path LIKE %(path)s AND h.status = ANY(%(on_register)s) AND h.category = ANY(%(categories)s)
       AND (cardinality(%(key_groups)s::varchar[]) = 0 OR h.key_group = ANY(%(key_groups)s::varchar[]))
       AND NOT EXISTS (SELECT 1 FROM assistance_payment p
                        WHERE p.campaign_id = %(campaign)s AND p.household_id = h.id AND p.reissue_of_id IS NULL)
),
inserted AS (
    INSERT INTO assistance_payment (batch_id, household_id, campaign_id, kind, period, amount, fund_source,
                                    account_name, bank_name, account, memo, status, failure_reason, created_at)
    SELECT %(batch)s, household_id, %(campaign)s, kind, %(period)s, amount, %(fund_source)s, head_name, bank_name,
           bank_card, left(%(campaign_name)s || ' ' || file_number, 100), 'pending', '', now()
      FROM chosen WHERE coalesce(bank_card, '') <> '' AND amount > 0
    ON CONFLICT DO NOTHING
    RETURNING amount
),
skips AS (
    INSERT INTO assistance_skippedschedule (batch_id, household_id, schedule_id, reason, note)
    SELECT %(batch)s, household_id, NULL, 'no_bank_card', '' FROM chosen WHERE coalesce(bank_card, '') = ''
    ON CONFLICT (batch_id, household_id) WHERE schedule_id IS NULL DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted), (SELECT coalesce(sum(amount), 0)::numeric(14, 2) FROM inserted),
       (SELECT count(*) FROM skips)
"""


def _insert_campaign_payments(batch: PaymentBatch, campaign: Campaign) -> tuple[int, Decimal, int]:
    params = {
        **_common_params(batch), "campaign": campaign.pk, "path": campaign.union.path + "%",
        "categories": list(campaign.categories), "key_groups": list(campaign.key_groups),
        "amounts": json.dumps(campaign.amounts), "fund_source": campaign.fund_source, "campaign_name": campaign.name,
    }
    with connection.cursor() as cursor:
        cursor.execute(CAMPAIGN_RUN_SQL, params)
        created, amount, skips = cursor.fetchone()
    return created, amount, skips


def is_due(schedule: Schedule, period: datetime.date) -> bool:
    """Whether the schedule has a payment in this period (the SQL above, for one schedule)."""
    if period < schedule.first_period or (schedule.last_period and period > schedule.last_period):
        return False
    if schedule.frequency == "quarterly":
        return period.month % 3 == 1
    if schedule.frequency == "once":
        return period == schedule.first_period
    return True


def payable_statuses(kind: str) -> tuple[str, ...]:
    keeps = settings.SUBSIDY_RELIEF_KEEPS_LIVING and kind == SubsidyKind.LIVING
    return (*ON_REGISTER_STATUSES, Status.RELIEVED) if keeps else tuple(ON_REGISTER_STATUSES)
