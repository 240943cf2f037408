"""Serve the application for development: Django on :8000 with a Celery worker and beat beside it.

Without a reachable Redis, background jobs run in-process instead (and it says so).
"""

import os
import subprocess
import sys

import redis
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from hardship.demo import DEMO_PASSWORD, describe_demo_users


def redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


class Command(BaseCommand):
    help = "开发用：在 http://127.0.0.1:8000 运行本系统，并启动 Celery worker 与 beat。"

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default="127.0.0.1:8000")

    def handle(self, *args, addrport: str, **options):
        if os.environ.get("RUN_MAIN") == "true":
            # The autoreloader's child runs this command again: it only serves.
            call_command("runserver", addrport)
            return
        workers = []
        if redis_reachable(settings.CELERY_BROKER_URL):
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "hardship", "worker", "--beat", "--loglevel=WARNING",
                 "--concurrency=2", "--schedule", str(settings.BASE_DIR / ".celerybeat-schedule")],
            ))
            self.stdout.write(self.style.SUCCESS(f"Celery worker 与 beat 已启动（{settings.CELERY_BROKER_URL}）。"))
        else:
            os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
            self.stdout.write(self.style.WARNING(
                f"未连接到 Redis（{settings.CELERY_BROKER_URL}）：后台任务将在 Web 进程内同步执行，定时任务不运行。"
            ))
        self.stdout.write(f"\n打开 http://{addrport}/ ，演示账号（密码均为 {DEMO_PASSWORD}）：")
        for username, full_name, role_label, union_name in describe_demo_users():
            self.stdout.write(f"  {username:<12} {full_name}  {role_label}  {union_name}")
        self.stdout.write("系统管理员、安全管理员和审计账号登录时还须输入两步验证码：./dev manage demo_code 用户名")
        try:
            call_command("runserver", addrport)
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(timeout=10)
