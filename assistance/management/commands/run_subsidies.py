from django.core.management.base import BaseCommand, CommandError

from assistance import runs
from hardship.models import Union


class Command(BaseCommand):
    help = "Generate a period's subsidy batches (the same run as the monthly beat and the supervisors' button)."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="YYYY-MM, e.g. 2026-12")
        parser.add_argument("--union", action="append", default=[], help="a union's code (repeatable); default all")

    def handle(self, *args, period, union, **options):
        try:
            month = runs.parse_period(period)
        except ValueError as error:
            raise CommandError(str(error)) from error
        union_ids = None
        if union:
            found = dict(Union.objects.filter(code__in=union).values_list("code", "pk"))
            if missing := sorted(set(union) - set(found)):
                raise CommandError(f"unknown union code(s): {', '.join(missing)}")
            union_ids = list(found.values())
        for result in runs.run_period(month, union_ids=union_ids):
            state = "approved already, nothing added" if result.locked else f"{result.created} payments added"
            self.stdout.write(f"{result.batch}: {state}; {result.batch.count} payments, {result.batch.total} yuan")
