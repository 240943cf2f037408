from django.core.management.base import BaseCommand

from hardship.management.commands.load_regions import load_regions
from hardship.unions import create_regional_unions


class Command(BaseCommand):
    help = "按行政区划建立全国、省、市、县各级总工会（已存在的单位不变）。可重复执行。"

    def handle(self, *args, **options):
        regions = load_regions()
        created = create_regional_unions()
        self.stdout.write(self.style.SUCCESS(f"行政区划 {regions} 条；新建地方总工会 {created} 个"))
