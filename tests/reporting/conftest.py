"""The household fixtures of tests/dossiers/conftest.py, for the pages that show files (the auditor's trail)."""

from tests.dossiers import conftest as households

build_household = households.build_household
make_household = households.make_household
reviewer = households.reviewer
second_reviewer = households.second_reviewer
standard = households.standard
walk = households.walk

from tests.assistance import conftest as assistance  # noqa: E402

county_supervisor = assistance.county_supervisor
checker = assistance.checker
registered = assistance.registered
schedule_for = assistance.schedule_for
budgets = assistance.budgets
