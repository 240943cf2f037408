"""Run in the smoke test's database (`python -m tests.ops.smoke_seed`): the union tree, a caseworker who signs in
with tests.factories.TEST_PASSWORD, and a household file; prints the file's number."""

import datetime
import os
from decimal import Decimal

import django


def seed() -> str:
    from dossiers.filing import save_household
    from dossiers.models import Household, LocalStandard
    from hardship.models import Region, Role
    from tests.conftest import TREE
    from tests.dossiers.conftest import default_members, household_fields
    from tests.factories import UnionFactory, UserFactory

    unions = {}
    for code, name, kind, parent_code, region in TREE:
        region_obj = Region.objects.get(code=region[0]) if region else getattr(unions.get(parent_code), "region", None)
        unions[code] = UnionFactory(code=code, name=name, kind=kind, parent=unions.get(parent_code), region=region_obj)
    LocalStandard.objects.create(region=Region.objects.get(code="410100"), effective_from=datetime.date(2020, 1, 1),
                                 poverty_line=Decimal("800.00"), min_wage=Decimal("2100.00"), source="郑州市民政局文件")
    caseworker = UserFactory(username="smoke-caseworker", role=Role.CASEWORKER, home_union=unions["410102-C01"],
                             full_name="王芳")
    household = Household(**household_fields(unions["410102-C01"]))
    return save_household(household, default_members(), by=caseworker).file_number


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hardship.settings")
    django.setup()
    print(seed())
