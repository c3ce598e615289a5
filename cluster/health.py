"""GET /health/: the database, the broker and the workers, for load balancers and monitoring.

200 when every part the deployment uses answers, 503 otherwise; the body says which part
failed. Tasks that run in-process (no CELERY_BROKER_URL, the laptop set-up) need neither
Redis nor a worker. No login is needed and nothing about the data is shown.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .models import PendingJob


def _database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {
        "ok": True,
        "vendor": connection.vendor,
        "ms": round(1000 * (time.monotonic() - started)),
    }


def _redis() -> dict:
    import redis

    from .celery import app

    try:
        client = redis.Redis.from_url(
            app.conf.broker_write_url or app.conf.broker_url,
            socket_connect_timeout=2,
            socket_timeout=2,
        )
        client.ping()
    except redis.RedisError as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True}


def _workers() -> dict:
    from .celery import app

    try:
        replies = app.control.ping(timeout=settings.HEALTH_WORKER_TIMEOUT)
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__, "count": 0}
    return {"ok": bool(replies), "count": len(replies)}


@login_not_required
@never_cache
@require_GET
def health(request):
    checks = {"database": _database()}
    if settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = {"ok": True, "mode": "in-process"}
        checks["workers"] = {"ok": True, "mode": "in-process"}
    else:
        checks["broker"] = _redis()
        checks["workers"] = _workers() if checks["broker"]["ok"] else {"ok": False, "count": 0}
    if checks["database"]["ok"]:
        waiting = PendingJob.objects.order_by("created_at").values_list("created_at", flat=True)
        oldest = waiting.first()
        checks["waiting_jobs"] = {
            "count": waiting.count(),
            "oldest": oldest.isoformat() if oldest else None,
        }
    healthy = all(part["ok"] for key, part in checks.items() if key != "waiting_jobs")
    return JsonResponse(
        {"status": "ok" if healthy else "failing", "checks": checks},
        status=200 if healthy else 503,
    )
