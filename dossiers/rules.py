"""Who may do what with a household file (rules predicates; objects must also be in scope)."""

import rules

from dossiers.choices import EDITABLE_STATUSES
from hardship.models import Union
from hardship.rules import in_scope, is_admin, is_auditor, is_caseworker, is_signed_in, is_supervisor

REVIEWING_UNION_KINDS = (Union.Kind.HELP_CENTRE, Union.Kind.COUNTY, Union.Kind.CITY, Union.Kind.PROVINCE,
                         Union.Kind.NATIONAL)


@rules.predicate
def is_editable(user, household=None) -> bool:
    return household is None or household.status in EDITABLE_STATUSES


@rules.predicate
def not_the_filer(user, household=None) -> bool:
    return household is None or household.filed_by_id != user.pk


@rules.predicate
def not_the_first_reviewer(user, household=None) -> bool:
    """初审 and 复核 are two people: the first reviewer of this round may not also review it."""
    return household is None or household.first_reviewed_by_id != user.pk


@rules.predicate
def has_pending_regrade(user, household=None) -> bool:
    return household is None or bool(household.pending_category)


@rules.predicate
def no_pending_regrade(user, household=None) -> bool:
    return household is None or not household.pending_category


@rules.predicate
def not_the_regrade_proposer(user, household=None) -> bool:
    return household is None or household.pending_category_by_id != user.pk


@rules.predicate
def at_reviewing_level(user, household=None) -> bool:
    """复核 is done by a help centre or a county-or-higher union, not by the grassroots unit."""
    return user.home_union_id is not None and user.home_union.kind in REVIEWING_UNION_KINDS


@rules.predicate
def at_a_higher_union(user, household=None) -> bool:
    """Exits are approved by a union above the one that owns the file."""
    if household is None:
        return True
    home = user.home_union
    return home is not None and household.union.path.startswith(home.path) and household.union_id != home.pk


@rules.predicate
def receives_the_transfer(user, transfer=None) -> bool:
    home = user.home_union
    return transfer is None or (home is not None and transfer.to_union.path.startswith(home.path))


@rules.predicate
def not_the_requester(user, transfer=None) -> bool:
    return transfer is None or transfer.requested_by_id != user.pk


casework = (is_caseworker | is_supervisor) & in_scope

# 三员分立: the system and security administrators never read the files (hardship.access.FileQuerySet).
rules.add_perm("dossiers.view_household", (is_caseworker | is_supervisor | is_auditor) & in_scope)
rules.add_perm("dossiers.add_household", is_caseworker)
rules.add_perm("dossiers.change_household", is_caseworker & in_scope & is_editable)
rules.add_perm("dossiers.delete_household", rules.always_deny)  # files are closed, never deleted
rules.add_perm("dossiers.reveal_id_number", (is_caseworker | is_supervisor | is_auditor) & in_scope)
rules.add_perm("dossiers.export_household", (is_caseworker | is_supervisor | is_auditor) & in_scope)
rules.add_perm("dossiers.record_visit_note", is_caseworker & in_scope)

rules.add_perm("dossiers.submit", is_caseworker & in_scope)
rules.add_perm("dossiers.first_review", casework & not_the_filer)
rules.add_perm("dossiers.record_visit", is_caseworker & in_scope)
rules.add_perm("dossiers.review", casework & not_the_filer & not_the_first_reviewer & at_reviewing_level)
rules.add_perm("dossiers.record_civil_check", casework)
rules.add_perm("dossiers.start_notice", casework)
rules.add_perm("dossiers.finish_notice", casework)
rules.add_perm("dossiers.decide_objection", casework)
# 退回修改 is a reviewer's opinion on the file, so not the filer's own (she may 撤回申请 instead).
rules.add_perm("dossiers.return_for_correction", casework & not_the_filer)
rules.add_perm("dossiers.withdraw", is_caseworker & in_scope)
rules.add_perm("dossiers.decline", casework & not_the_filer)
rules.add_perm("dossiers.reverify", casework & no_pending_regrade)
rules.add_perm("dossiers.confirm_regrade", casework & has_pending_regrade & not_the_regrade_proposer)
rules.add_perm("dossiers.reject_regrade", casework & has_pending_regrade & not_the_regrade_proposer)
rules.add_perm("dossiers.propose_exit", is_caseworker & in_scope)
rules.add_perm("dossiers.approve_exit", is_supervisor & in_scope & at_a_higher_union)
rules.add_perm("dossiers.reject_exit", is_supervisor & in_scope & at_a_higher_union)
rules.add_perm("dossiers.request_transfer", is_caseworker & in_scope)
rules.add_perm("dossiers.accept_transfer", (is_caseworker | is_supervisor) & receives_the_transfer & not_the_requester)
rules.add_perm("dossiers.open_relapse", is_caseworker & in_scope)

rules.add_perm("dossiers.view_localstandard", is_signed_in)
# A standard is added for a period, within the administrator's own region, and never edited in place: every
# assessment made on it keeps pointing at the figures it used.
rules.add_perm("dossiers.add_localstandard", is_admin)
rules.add_perm("dossiers.change_localstandard", rules.always_deny)

# Legacy registers are imported by administrators, into a union of their own subtree.
rules.add_perm("dossiers.import_household", is_admin & in_scope)
rules.add_perm("dossiers.view_importbatch", (is_admin | is_auditor) & in_scope)
# Civil-affairs 低保 rosters: uploaded and reviewed by caseworkers and administrators; only a
# caseworker accepts a match into a file (it changes the file, so it is casework).
rules.add_perm("dossiers.match_civil_roster", (is_caseworker | is_admin) & in_scope)
rules.add_perm("dossiers.accept_civil_match", is_caseworker & in_scope)

# 一帮一结对帮扶: helpers are kept by the caseworkers of their union's subtree and read by those who read files there;
# a caseworker pairs the households of their subtree (dossiers.pairing checks the register status).
rules.add_perm("dossiers.view_helper", (is_caseworker | is_supervisor | is_auditor) & in_scope)
rules.add_perm("dossiers.add_helper", is_caseworker)
rules.add_perm("dossiers.change_helper", is_caseworker & in_scope)
rules.add_perm("dossiers.delete_helper", rules.always_deny)  # a helper with pairings is kept; off duty instead
rules.add_perm("dossiers.pair_household", is_caseworker & in_scope)
rules.add_perm("dossiers.add_visit", is_caseworker & in_scope)
