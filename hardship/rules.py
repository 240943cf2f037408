"""Permissions as rules predicates. Object checks also require the object to be in scope."""

import rules

from hardship.access import is_in_scope
from hardship.models import Role, Union


def has_role(*roles: str) -> rules.Predicate:
    @rules.predicate(name=f"has_role({','.join(roles)})")
    def predicate(user) -> bool:
        return user.is_authenticated and user.is_active and (user.role in roles or user.is_superuser)

    return predicate


@rules.predicate
def in_scope(user, obj=None) -> bool:
    """No object: the question is about the model as a whole, decided by role alone."""
    return obj is None or is_in_scope(user, obj)


@rules.predicate
def not_self(user, obj=None) -> bool:
    return obj is None or obj.pk != user.pk


@rules.predicate
def at_national_union(user) -> bool:
    """The user's home union is 全国总工会 (a superuser, who may have none, counts as national)."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or (user.home_union_id is not None and user.home_union.kind == Union.Kind.NATIONAL)


is_caseworker = has_role(Role.CASEWORKER)
is_supervisor = has_role(Role.SUPERVISOR)
is_admin = has_role(Role.ADMIN)
is_security = has_role(Role.SECURITY)
is_auditor = has_role(Role.AUDITOR)
is_signed_in = has_role(*Role.values)

rules.add_perm("hardship.view_union", is_signed_in & in_scope)
rules.add_perm("hardship.export_union", is_signed_in & in_scope)
rules.add_perm("hardship.add_union", is_admin & in_scope)
rules.add_perm("hardship.change_union", is_admin & in_scope)
rules.add_perm("hardship.delete_union", rules.always_deny)  # units are deactivated, never deleted

rules.add_perm("hardship.view_user", (is_admin | is_security | is_supervisor | is_auditor) & in_scope)
rules.add_perm("hardship.add_user", is_admin & in_scope)
rules.add_perm("hardship.change_user", is_admin & in_scope)
rules.add_perm("hardship.delete_user", rules.always_deny)  # accounts are deactivated, never deleted
# 三员分立: an administrator asks for a role or a unit, a security administrator (another person) approves it.
rules.add_perm("hardship.approve_role", is_security & in_scope & not_self)
rules.add_perm("hardship.end_sessions", is_admin | is_security)
rules.add_perm("hardship.reset_two_factor", is_security)

rules.add_perm("hardship.view_region", is_signed_in)
rules.add_perm("hardship.view_heartbeat", is_admin)
rules.add_perm("hardship.view_history", (is_admin | is_auditor) & in_scope)
# The working calendar (hardship/workdays.py) is national: everyone reads it, only the national
# union's administrators enter holidays and make-up working days.
rules.add_perm("hardship.view_calendarday", is_signed_in)
rules.add_perm("hardship.add_calendarday", is_admin & at_national_union)
rules.add_perm("hardship.change_calendarday", is_admin & at_national_union)
rules.add_perm("hardship.delete_calendarday", is_admin & at_national_union)
rules.add_perm("hardship.use_admin_site", is_admin | is_security | is_auditor)
