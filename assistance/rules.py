"""Who may keep the reference data: everyone signed in reads it; national administrators change it (it is the
same for the whole country)."""

import rules

from hardship.rules import at_national_union, in_scope, is_admin, is_auditor, is_caseworker, is_signed_in, is_supervisor

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


# Subsidies. Supervisors of the subtree set up schedules and run, approve, send and reconcile batches (the
# maker-checker rule is in assistance/batches.py); the bank file with full account numbers is theirs alone.
# Auditors read batches, payments and budgets of their subtree; caseworkers see a household's payments on its file.
rules.add_perm("assistance.change_schedule", is_supervisor & in_scope)
rules.add_perm("assistance.view_batch", (is_supervisor | is_auditor) & in_scope)
for action in ("run_batch", "approve_batch", "edit_batch", "send_batch", "export_bank_file", "change_budget",
               "change_campaign"):
    rules.add_perm(f"assistance.{action}", is_supervisor & in_scope)
@rules.predicate
def campaign_reaches(user, campaign=None) -> bool:
    """A campaign of the user's subtree, or of a union above it (a county's campaign reaches its help centres)."""
    from hardship.access import scope_path

    if campaign is None:
        return True
    path = scope_path(user)
    return path is not None and (campaign.union.path.startswith(path) or path.startswith(campaign.union.path))


rules.add_perm("assistance.view_campaign", (is_supervisor | is_auditor | is_caseworker) & campaign_reaches)
rules.add_perm("assistance.record_campaign_visit", is_caseworker & in_scope)
