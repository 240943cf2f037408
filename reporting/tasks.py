"""The beat's reporting jobs: folding the counts' deltas, and the nightly snapshot, each vacuuming what it leaves
dead. Both can run twice."""

from celery import shared_task
from django.utils import timezone

from reporting import figures, snapshots
from reporting.models import FigureCount, FigureDelta


@shared_task(acks_late=True, reject_on_worker_lost=True)
def fold_figures() -> int:
    folded = figures.fold()
    figures.vacuum(FigureDelta._meta.db_table)
    return folded


@shared_task(acks_late=True, reject_on_worker_lost=True)
def take_snapshots() -> dict:
    """Folds, merges the dates below every threshold to come, and replaces this month's snapshot."""
    today = timezone.localdate()
    folded = figures.fold()
    merged = figures.merge_dates(today)
    taken = snapshots.take(today)
    figures.vacuum(FigureDelta._meta.db_table, FigureCount._meta.db_table)
    return {"folded": folded, "merged": merged, "snapshots": taken}
