import datetime
import socket

import pgtrigger
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from hardship.models import AccessRecord, Heartbeat


@shared_task
def heartbeat(name: str = "beat") -> str:
    """Record that the worker is alive; the admin home shows when it last ran."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name=name, defaults={"last_seen": now, "worker": socket.gethostname()})
    return now.isoformat()


@shared_task
def purge_old_access_records() -> int:
    """Delete the access records older than AUDIT_RETENTION_DAYS, the only deletion their table allows (its trigger
    refuses every other). The files' change history (the pghistory event tables) is kept: it is not purged here."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    with pgtrigger.ignore("hardship.AccessRecord:access_record_append_only"):
        deleted, _ = AccessRecord.objects.filter(at__lt=cutoff).delete()
    return deleted
