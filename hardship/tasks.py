import socket

from celery import shared_task
from django.utils import timezone

from hardship.models import Heartbeat


@shared_task
def heartbeat(name: str = "beat") -> str:
    """Record that the worker is alive; the admin home shows when it last ran."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name=name, defaults={"last_seen": now, "worker": socket.gethostname()})
    return now.isoformat()
