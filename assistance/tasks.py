"""Celery tasks of the subsidies: thin, idempotent (a redelivered task re-runs a run that adds nothing twice),
acknowledged late (a worker killed mid-run leaves the message to be redelivered) and queued on commit."""

from __future__ import annotations

import pghistory
from celery import shared_task
from django.contrib.auth import get_user_model

from assistance import runs
from assistance.subsidies import current_period


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_subsidies(period: str, union_ids: list[int] | None = None, user_id: int | None = None) -> list[dict]:
    by = get_user_model().objects.get(pk=user_id) if user_id else None
    with pghistory.context(user=user_id, task="assistance.tasks.run_subsidies"):  # the history credits who started it
        results = runs.run_period(runs.parse_period(period), union_ids=union_ids, by=by)
    return [{"batch": r.batch.pk, "created": r.created, "amount": str(r.amount), "locked": r.locked}
            for r in results]


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_this_month() -> list[dict]:
    """The beat's monthly run: every union with schedules, this month (Beijing time)."""
    return run_subsidies(f"{current_period():%Y-%m}")


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_campaign(campaign_id: int, user_id: int | None = None) -> dict:
    from assistance.subsidy_models import Campaign

    by = get_user_model().objects.get(pk=user_id) if user_id else None
    with pghistory.context(user=user_id, task="assistance.tasks.run_campaign"):
        result = runs.generate_campaign(Campaign.objects.select_related("union").get(pk=campaign_id), by=by)
    return {"batch": result.batch.pk, "created": result.created, "amount": str(result.amount)}
