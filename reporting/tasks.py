"""The beat's reporting jobs: folding the counts' deltas, and the nightly snapshot. Both can run twice."""

from celery import shared_task
from django.utils import timezone

from reporting import figures, snapshots


@shared_task(acks_late=True, reject_on_worker_lost=True)
def fold_figures() -> int:
    return figures.fold()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def take_snapshots() -> dict:
    """Folds, merges the dates below every threshold to come, and replaces this month's snapshot."""
    today = timezone.localdate()
    folded = figures.fold()
    merged = figures.merge_dates(today)
    return {"folded": folded, "merged": merged, "snapshots": snapshots.take(today)}
