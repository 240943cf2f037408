"""Writing the access record (hardship.models.AccessRecord): one helper for every call site, so each record carries
the client's address taken the way django-axes takes it for its lockouts (hardship.security.addresses)."""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest

from hardship.models import AccessRecord, Union
from hardship.security.addresses import client_ip

SUBJECT_LENGTH = AccessRecord._meta.get_field("subject").max_length


def record(request: HttpRequest | None, action: str, subject: str, union: Union | None = None,
           succeeded: bool = True, *, user=None, username: str = "") -> AccessRecord:
    """Append one access record from the request's address, for `user` (by default the request's user; none when
    signed out) or, when there is no account, the name as typed."""
    if user is None:
        signed_in = getattr(request, "user", None)
        user = signed_in if signed_in is not None and signed_in.is_authenticated else None
    return AccessRecord.objects.create(
        user=user, username=(user.get_username() if user else username)[:150], action=action,
        subject=str(subject)[:SUBJECT_LENGTH], union=union, address=client_address(request) if request else None,
        succeeded=succeeded,
    )


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address, as django-axes takes it for its lockouts (AXES_CLIENT_IP_CALLABLE)."""
    try:
        return str(ipaddress.ip_address((client_ip(request) or "").strip()))
    except ValueError:
        return None
