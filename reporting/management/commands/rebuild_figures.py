"""./dev manage rebuild_figures: every dashboard count again from the tables (after a restore from an old dump, or to
check the triggers: `--check` compares first and says what differed)."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from hardship.models import Union
from reporting import figures
from reporting.models import FigureCount, FigureDelta, HouseholdFigures


class Command(BaseCommand):
    help = "Rebuild the dashboards' maintained counts from the register's tables."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="compare the kept counts with the rebuilt ones")

    def handle(self, *args, check: bool = False, **options):
        today = timezone.localdate()
        unions = list(Union.objects.all())
        before = _nonzero(figures.figures_of(unions, today)) if check else None
        with transaction.atomic():
            households = figures.rebuild()
            figures.merge_dates(today)
        # the rebuild deletes every row it replaces (readers keep the old counts until it commits)
        figures.vacuum(HouseholdFigures._meta.db_table, FigureCount._meta.db_table, FigureDelta._meta.db_table)
        self.stdout.write(f"rebuilt the counts of {households} households")
        if check:
            after = _nonzero(figures.figures_of(unions, today))
            differing = [pk for pk in after if before.get(pk) != after[pk]]
            self.stdout.write(f"{len(differing)} unions' counts differed" if differing
                              else "the kept counts were exact")


def _nonzero(by_union: dict) -> dict:
    return {pk: ({k: n for k, n in f.counts.items() if n}, {y: a for y, a in f.paid.items() if a})
            for pk, f in by_union.items()}
