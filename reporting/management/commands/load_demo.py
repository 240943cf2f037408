from django.core.management.base import BaseCommand

from hardship.demo import DEMO_PASSWORD, describe_demo_users
from hardship.models import Union
from reporting.demo import load_demo


class Command(BaseCommand):
    help = "载入演示数据：全国、省、市、县各级总工会，两个演示县区的基层单位、演示账号和家庭档案。"

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="数据库已有数据时不做任何事")

    def handle(self, *args, if_empty: bool, **options):
        if if_empty and Union.objects.exists():
            self.stdout.write("数据库已有数据，未载入演示数据。")
            return
        summary = load_demo()
        self.stdout.write(self.style.SUCCESS(f"演示数据已载入：{summary}"))
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for username, full_name, role_label, union_name in describe_demo_users():
            self.stdout.write(f"  {username:<12} {full_name}  {role_label}  {union_name}")
        self.stdout.write("系统管理员、安全管理员和审计账号登录时还须输入两步验证码：./dev manage demo_code 用户名")
