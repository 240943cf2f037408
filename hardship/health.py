"""GET /health/: the database, Redis and the Celery beat/worker heartbeat.

Anyone may ask (load balancers, container health checks) and gets only the overall status; staff users and
callers presenting HEALTH_CHECK_TOKEN (header `X-Health-Token`) also see each check's result.

GET /health/?live=1 checks the web process and its database only: the container's own health check, which must
pass before the worker and beat start (docker-compose.yml) and so cannot wait for their heartbeat.
"""

import datetime
import hmac

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from hardship.models import Heartbeat

# The name hardship.tasks.heartbeat records when the beat schedule calls it without arguments.
BEAT_HEARTBEAT = "beat"


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def check_redis() -> str:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        return "ok" if client.ping() else "no answer"
    finally:
        client.close()


def check_heartbeat() -> str:
    beat = Heartbeat.objects.filter(name=BEAT_HEARTBEAT).first()
    if beat is None:
        return "never seen"
    if timezone.now() - beat.last_seen > datetime.timedelta(seconds=settings.HEALTH_HEARTBEAT_MAX_AGE):
        return "stale"
    return "ok"


CHECKS = {"database": check_database, "redis": check_redis, "celery_heartbeat": check_heartbeat}


def run_checks(names) -> dict[str, str]:
    results = {}
    for name in names:
        check = CHECKS[name]
        try:
            results[name] = check()
        except Exception as error:  # any failure fails the check; only its kind is reported (never a message)
            results[name] = f"error: {type(error).__name__}"
    return results


def may_see_details(request: HttpRequest) -> bool:
    token = settings.HEALTH_CHECK_TOKEN
    offered = request.headers.get("X-Health-Token", "")
    if token and offered and hmac.compare_digest(token.encode(), offered.encode()):
        return True
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.is_staff)


@csrf_exempt
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    results = run_checks(["database"] if "live" in request.GET else CHECKS)
    healthy = all(result == "ok" for result in results.values())
    body = {"status": "ok" if healthy else "unavailable"}
    if may_see_details(request):
        body["checks"] = results
    response = JsonResponse(body, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response
