"""A real Celery worker for tests: its own process, on Redis (REDIS_URL), on the test database,
listening on a queue of its own so that no other worker on the same Redis takes its tasks."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import redis
from django.conf import settings
from django.db import connection

from hardship.celery import app

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The test database as a DATABASE_URL that django-environ reads back the same."""
    db = connection.settings_dict
    credentials = quote(db["USER"], safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    if db["HOST"].startswith("/"):  # a Unix socket folder (the embedded server): host goes in the path
        return f"postgres://{credentials}@/{db['HOST']}/{db['NAME']}"
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(queue: str | None = None, *, name: str | None = None, env: dict[str, str] | None = None,
                 pool: str = "solo") -> tuple[subprocess.Popen, str]:
    """A worker on a new queue (which becomes the default queue of the tasks this process sends), or on `queue`
    (a second worker on a queue that has one, or a queue the caller names in apply_async: the default is left
    alone). `name` (default: the queue) makes the node name, which must differ between workers of one queue;
    `env` is added to the worker's environment; `pool="prefork"` runs the tasks in one child process, as production
    does (the solo pool runs them in the worker's event loop, which sends an early acknowledgement only once the task
    has finished)."""
    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        raise RuntimeError(
            f"Celery tests need Redis at {settings.CELERY_BROKER_URL} ({error}). "
            "Start redis-server or set REDIS_URL."
        ) from error
    if queue is None:
        queue = f"test-{uuid.uuid4().hex[:8]}"
        app.conf.task_default_queue = queue
    node = name or queue
    env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_TASK_DEFAULT_QUEUE": queue, **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "hardship", "worker", f"--pool={pool}",
         *(["--concurrency=1"] if pool != "solo" else []), "--loglevel=WARNING",
         "-Q", queue, "-n", f"{node}@%h", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env,
    )
    wait_until_ready(process, node)
    return process, queue


def wait_until_ready(process: subprocess.Popen, node: str, timeout: float = 60) -> None:
    """Until the worker whose node name starts with `node@` answers a ping."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {process.returncode}")
        replies = app.control.ping(timeout=0.5) or []
        if any(name.startswith(f"{node}@") for reply in replies for name in reply):
            return
    process.kill()
    raise RuntimeError("the Celery worker did not answer within a minute")


def stop_worker(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
