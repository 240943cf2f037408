"""三员分立: a role or unit given by a system administrator takes effect only when a security administrator,
another person, approves it.

An administrator who creates an account, changes its role or unit, or re-enables it only asks: the account
keeps its present role, unit and state (a new one stays disabled) until the approval. Every step is a change
of the user row, so it is in the audit trail with who asked and who approved.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from hardship.access import is_in_scope
from hardship.models import User


class ApprovalError(Exception):
    """A request that this user may not decide; the message says why."""


def hold_for_approval(user: User, *, by: User, before: User | None) -> bool:
    """Turn what an administrator saved into a request (before: the account as stored; None for a new one).
    Returns whether anything now waits for approval."""
    if before is None:
        user.is_active = False
    else:
        regranted = (user.role, user.home_union_id) != (before.role, before.home_union_id)
        reactivated = user.is_active and not before.is_active
        if not (regranted or reactivated):
            return False
        user.is_active = before.is_active
    user.pending_role, user.pending_home_union = user.role, user.home_union
    user.pending_requested_by = by
    if before is not None:
        user.role, user.home_union = before.role, before.home_union
    return True


def pending_for(approver: User):
    """The requests this security administrator may decide: in their subtree, not their own account."""
    return (User.objects.visible_to(approver).filter(pending_requested_by__isnull=False).exclude(pk=approver.pk)
            .select_related("home_union", "pending_home_union", "pending_requested_by").order_by("date_joined"))


@transaction.atomic
def approve(user_id: int, *, by: User) -> User:
    user = _locked_request(user_id, by)
    user.role, user.home_union = user.pending_role, user.pending_home_union
    user.is_active = True
    _clear(user)
    user.save()
    return user


@transaction.atomic
def reject(user_id: int, *, by: User) -> User:
    user = _locked_request(user_id, by)
    _clear(user)
    user.save()
    return user


def _locked_request(user_id: int, by: User) -> User:
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None or not user.pending_requested_by_id:
        raise ApprovalError(_("这项申请已经处理过了。"))
    if not by.has_perm("hardship.approve_role", user):
        raise ApprovalError(_("只有安全管理员可以审批本单位及下级单位的账号申请，且不能审批自己的账号。"))
    if user.pending_requested_by_id == by.pk:
        raise ApprovalError(_("申请人不能审批自己提出的申请。"))
    if user.pending_home_union and not is_in_scope(by, user.pending_home_union):
        raise ApprovalError(_("申请的所属单位不在您的管辖范围内。"))
    return user


def _clear(user: User) -> None:
    user.pending_role, user.pending_home_union, user.pending_requested_by = "", None, None
