import csv
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from hardship.models import Region

REGIONS_CSV = Path(__file__).resolve().parents[2] / "data" / "regions.csv"


class Command(BaseCommand):
    help = "载入行政区划代码（hardship/data/regions.csv，见 SOURCE.md）。可重复执行。"

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=REGIONS_CSV)

    def handle(self, *args, file: Path, **options):
        count = load_regions(file)
        self.stdout.write(self.style.SUCCESS(f"行政区划：{count} 条"))


@transaction.atomic
def load_regions(file: Path = REGIONS_CSV) -> int:
    with open(file, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # Parents come before children in the file: provinces, then prefectures, then counties.
    regions = [
        Region(code=row["code"], name=row["name"], level=row["level"], parent_id=row["parent_code"] or None)
        for row in rows
    ]
    Region.objects.bulk_create(
        regions, update_conflicts=True, unique_fields=["code"], update_fields=["name", "level", "parent"],
        batch_size=1000,
    )
    return len(regions)
