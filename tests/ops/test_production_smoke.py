"""The production stack as docker-compose.yml runs it, on this machine: the web entrypoint (migrate, load_regions,
then gunicorn with hardship/gunicorn.conf.py), a Celery worker and Celery beat, with DEBUG off, on a database of
their own (on the default connection's server) and a Redis database and queue of their own.

/health/ must turn 200 with the heartbeat that the real beat sent and the real worker wrote; then a caseworker
signs in over HTTP (the login page's CSRF token, as a browser) and opens a household file. Requests carry
X-Forwarded-Proto: https as from the TLS-terminating proxy (no TLS here), so the secure cookies are sent back.
"""

import datetime
import http.client
import os
import re
import shelve
import signal
import socket
import subprocess
import sys
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
from django.conf import settings
from django.db import connection
from psycopg import sql

from hardship.celery import app as celery_app
from hardship.management.commands.restore_db import connect
from tests.celery_worker import database_url
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.celery, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# A Redis database the other tests do not use (they use REDIS_URL's); the queue is the run's own as well.
SMOKE_REDIS_DB = 14
HEALTH_TOKEN = uuid.uuid4().hex
WAIT = 240  # seconds: migrating and starting three processes on a busy machine, not a performance figure


class Stack:
    """The processes, their environment and logs; every process leads a process group of its own."""

    def __init__(self, env: dict, logs: Path):
        self.env, self.logs, self.processes = env, logs, {}

    def run(self, *command: str) -> str:
        result = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=WAIT)
        assert result.returncode == 0, f"{command}: {result.stderr[-3000:]}"
        return result.stdout

    def start(self, name: str, *command: str) -> None:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.processes[name] = (subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                 start_new_session=True), log)

    def check_running(self) -> None:
        for name, (process, _) in self.processes.items():
            assert process.poll() is None, f"{name} exited with {process.returncode}:\n{self.log_tail(name)}"

    def log_tail(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()[-3000:]

    def stop(self) -> dict[str, int]:
        """SIGTERM to each main process, as `docker compose stop` does; the exit codes of those that stopped."""
        for process, _ in self.processes.values():
            process.terminate()
        codes = {}
        for name, (process, log) in self.processes.items():
            try:
                codes[name] = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
            log.close()
        return codes

    def kill(self) -> None:
        for process, log in self.processes.values():
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=30)
            log.close()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browser:
    """HTTP/1.1 to gunicorn with cookies kept by hand (they are Secure: a cookie jar would not send them)."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, *, form: dict | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {"Host": f"127.0.0.1:{self.port}", "X-Forwarded-Proto": "https", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent |= {"Content-Type": "application/x-www-form-urlencoded",
                     "Origin": f"https://127.0.0.1:{self.port}", "Referer": f"https://127.0.0.1:{self.port}{path}"}
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookies |= {name: morsel.value for name, morsel in SimpleCookie(header).items()}
        return response, text

    def status(self, path: str, **kwargs) -> int | None:
        try:
            return self.request("GET", path, **kwargs)[0].status
        except OSError:  # not listening yet
            return None


def wait_for(stack: Stack, condition, what: str):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        stack.check_running()
        if result := condition():
            return result
        time.sleep(0.5)
    raise AssertionError(f"{what} within {WAIT} s; web log:\n{stack.log_tail('web')}")


@pytest.fixture
def smoke_database():
    name = f"{connection.settings_dict['NAME']}_smoke"
    with connect(connection.settings_dict["NAME"]) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with connect(connection.settings_dict["NAME"]) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def smoke_redis_url() -> str:
    return re.sub(r"(/\d+)?$", f"/{SMOKE_REDIS_DB}", settings.REDIS_URL.split("?")[0], count=1)


def production_environment(database: str, tmp_path: Path, queue: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CELERY_", "PYTEST"))}
    return env | {
        "PATH": f"{VENV_BIN}:{env.get('PATH', '')}",
        "DJANGO_SETTINGS_MODULE": "tests.ops.smoke_settings",
        "SMOKE_STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": database_url().rsplit("/", 1)[0] + f"/{database}",
        "REDIS_URL": smoke_redis_url(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "DJANGO_DEBUG": "False",
        "DJANGO_SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "FIELD_ENCRYPTION_KEYS": uuid.uuid4().hex,
        "ID_NUMBER_DIGEST_KEY": uuid.uuid4().hex,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "False",
        "HEALTH_CHECK_TOKEN": HEALTH_TOKEN,
    }


def beat_schedule_due_now(path: Path) -> None:
    """Beat's schedule file as a beat that has been down for a day leaves it: the heartbeat is due at once, instead
    of five minutes after start (the interval). Written by Celery's own scheduler, read back by the real beat."""
    from celery.beat import PersistentScheduler

    scheduler = PersistentScheduler(app=celery_app, schedule_filename=str(path))
    scheduler.schedule["heartbeat"].last_run_at = celery_app.now() - datetime.timedelta(days=1)
    scheduler.close()
    with shelve.open(str(path)) as stored:
        assert stored["entries"]["heartbeat"].is_due()[0]


def sign_in(browser: Browser, username: str) -> None:
    response, page = browser.request("GET", "/accounts/login/")
    assert response.status == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response, _ = browser.request("POST", "/accounts/login/",
                                  form={"username": username, "password": TEST_PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status == 302, "the sign-in was refused"
    assert "sessionid" in browser.cookies


def test_the_production_stack_serves_a_signed_in_caseworker(tmp_path, smoke_database):
    queue = f"smoke-{uuid.uuid4().hex[:8]}"
    stack = Stack(production_environment(smoke_database, tmp_path, queue), tmp_path)
    port = free_port()
    browser = Browser(port)
    beat_schedule = tmp_path / "celerybeat-schedule"
    try:
        stack.run(str(VENV_BIN / "python"), "manage.py", "collectstatic", "--no-input", "-v", "0")
        stack.start("web", "docker/entrypoint.sh", "gunicorn", "-c", "hardship/gunicorn.conf.py",
                    "--bind", f"127.0.0.1:{port}", "hardship.wsgi:application")
        # The container health check: migrated and serving (worker and beat start after it, as in compose).
        wait_for(stack, lambda: browser.status("/health/?live=1") == 200, "gunicorn did not answer")
        assert browser.status("/health/") == 503  # no heartbeat yet
        beat_schedule_due_now(beat_schedule)
        stack.start("worker", "celery", "-A", "hardship", "worker", "--loglevel=INFO", "-n", f"{queue}@%h")
        stack.start("beat", "celery", "-A", "hardship", "beat", "--loglevel=INFO", "--schedule", str(beat_schedule))
        wait_for(stack, lambda: browser.status("/health/") == 200, "/health/ did not turn 200")

        response, details = browser.request("GET", "/health/", headers={"X-Health-Token": HEALTH_TOKEN})
        assert '"celery_heartbeat": "ok"' in details and '"redis": "ok"' in details
        file_number = stack.run(str(VENV_BIN / "python"), "-m", "tests.ops.smoke_seed").strip().splitlines()[-1]
        sign_in(browser, "smoke-caseworker")
        response, page = browser.request("GET", f"/households/{file_number}/")
        assert response.status == 200 and file_number in page and "张建国" in page
        assert response.getheader("Strict-Transport-Security") and response.getheader("X-Request-ID")
        stack.check_running()
        codes = stack.stop()
        assert codes == {"web": 0, "worker": 0, "beat": 0}, {name: stack.log_tail(name) for name in stack.processes}
    finally:
        stack.kill()
        broker = redis.Redis.from_url(smoke_redis_url())
        for key in broker.scan_iter(match=f"*{queue}*"):
            broker.delete(key)
