"""Writing the access record (hardship.models.AccessRecord): one helper for every call site, so each record carries
the client's address taken the way django-axes takes it for its lockouts."""

from __future__ import annotations

import ipaddress

from axes.helpers import IPWARE_INSTALLED, get_client_ip_address
from django.conf import settings
from django.http import HttpRequest

from hardship.models import AccessRecord, Union

SUBJECT_LENGTH = AccessRecord._meta.get_field("subject").max_length


def record(request: HttpRequest, action: str, subject: str, union: Union | None = None,
           succeeded: bool = True) -> AccessRecord:
    """Append one access record for the request's user (none when signed out) from the request's address."""
    user = getattr(request, "user", None)
    user = user if user is not None and user.is_authenticated else None
    return AccessRecord.objects.create(
        user=user, username=user.get_username() if user else "", action=action, subject=str(subject)[:SUBJECT_LENGTH],
        union=union, address=client_address(request), succeeded=succeeded,
    )


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address. Axes decides when it is configured to (AXES_CLIENT_IP_CALLABLE, or django-ipware
    installed); otherwise REMOTE_ADDR, or behind AXES_IPWARE_PROXY_COUNT proxies the address the outermost of
    them saw, read from the right of X-Forwarded-For (the entries to its left are the client's to write)."""
    if settings.AXES_CLIENT_IP_CALLABLE or IPWARE_INSTALLED:
        return _valid(get_client_ip_address(request))
    count = settings.AXES_IPWARE_PROXY_COUNT or 0
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if count and len(forwarded) >= count:
        return _valid(forwarded[-count])
    return _valid(request.META.get("REMOTE_ADDR"))


def _valid(address: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((address or "").strip()))
    except ValueError:
        return None
