"""Who may keep the reference data: everyone signed in reads it; national administrators change it (it is the
same for the whole country)."""

import rules

from hardship.rules import at_national_union, in_scope, is_admin, is_caseworker, is_signed_in

for model in ("measuretype", "causesuggestion"):
    rules.add_perm(f"assistance.view_{model}", is_signed_in)
    for action in ("add", "change", "delete"):
        rules.add_perm(f"assistance.{action}_{model}", is_admin & at_national_union)


@rules.predicate
def is_plannable(user, household=None) -> bool:
    from assistance.plans import PLANNABLE_STATUSES

    return household is None or household.status in PLANNABLE_STATUSES


# A plan is read with its file and written by the caseworkers of the file's subtree while it is on the register.
rules.add_perm("assistance.change_plan", is_caseworker & in_scope & is_plannable)
