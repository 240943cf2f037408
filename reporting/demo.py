"""The whole demo: the core's union tree and accounts, then the household files and the legacy import on top.

It lives here because reporting is the app that may depend on all the others; the core loads only its own part.
"""

from django.db import transaction

from assistance.demo import load_assistance_demo
from assistance.subsidy_demo import load_subsidy_demo
from dossiers.demo import load_dossier_demo, stamp_history
from dossiers.legacy.demo import load_legacy_demo
from dossiers.models import Household
from hardship.demo import load_union_demo
from reporting.snapshot_demo import load_snapshot_demo


@transaction.atomic
def load_demo() -> str:
    unions_and_users = load_union_demo()
    households = load_dossier_demo() if not Household.objects.exists() else 0
    legacy = load_legacy_demo() if households else ""  # the import and the roster build on the files above
    help_given = (load_assistance_demo() + load_subsidy_demo()) if households else ""
    trends = load_snapshot_demo() if households else ""
    stamp_history()
    return f"{unions_and_users}，家庭档案 {households} 户{legacy}{help_given}{trends}"
