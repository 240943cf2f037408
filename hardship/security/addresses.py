"""The client's address, for axes' lockouts (AXES_CLIENT_IP_CALLABLE) and so for the access record too."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR; behind AXES_IPWARE_PROXY_COUNT trusted proxies, the address the outermost of them saw, read
    from the right of X-Forwarded-For (what lies to its left the client wrote itself, so it counts for nothing)."""
    count = settings.AXES_IPWARE_PROXY_COUNT or 0
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR")
