"""Which moves of the register the file page offers a user now, and if one cannot be made yet, why.

The page shows only what can succeed; a move that is this user's to make but not now (the notice has not ended, a
review of her own file, a re-grade she proposed herself) is shown disabled with the register's own reason. A move of
another role is not shown at all. The register still checks everything again when the move is made.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dossiers import register
from dossiers.models import Household

# The button that confirms each move, as one sentence (a label glued to "确认" reads badly in English).
CONFIRM_LABELS = {
    "submit": gettext_lazy("确认提交初审"),
    "first_review": gettext_lazy("确认初审通过"),
    "record_visit": gettext_lazy("确认登记入户调查"),
    "review": gettext_lazy("确认复核通过"),
    "record_civil_check": gettext_lazy("确认登记民政核对"),
    "start_notice": gettext_lazy("确认开始公示"),
    "finish_notice": gettext_lazy("确认公示期满，入档"),
    "return_for_correction": gettext_lazy("确认退回修改"),
    "withdraw": gettext_lazy("确认撤回申请"),
    "decline": gettext_lazy("确认不予建档"),
    "reverify": gettext_lazy("确认年度复核"),
    "confirm_regrade": gettext_lazy("确认调整类别"),
    "reject_regrade": gettext_lazy("确认不同意调整类别"),
    "propose_exit": gettext_lazy("确认申请退出"),
    "approve_exit": gettext_lazy("确认批准退出"),
    "reject_exit": gettext_lazy("确认不批准退出"),
    "request_transfer": gettext_lazy("确认申请转移"),
    "open_relapse": gettext_lazy("确认返困重新建档"),
}


@dataclass(frozen=True)
class Action:
    transition: register.Transition
    refusal: str = ""  # why it cannot be made now; empty when it can

    @property
    def name(self) -> str:
        return self.transition.name

    @property
    def label(self) -> str:
        return str(self.transition.label)

    @property
    def allowed(self) -> bool:
        return not self.refusal


def actions_for(household: Household, user) -> list[Action]:
    """The moves of this file's status that are this user's to make, each with its refusal (in register order)."""
    return [Action(spec, refusal(household, user, spec)) for spec in register.TRANSITIONS.values()
            if household.status in spec.sources and is_theirs(household, user, spec)]


def is_theirs(household: Household, user, spec: register.Transition) -> bool:
    """Whether the move is one for this user's role and scope, whoever filed, reviewed or proposed what."""
    return user.has_perm(spec.permission, household) or user.has_perm(spec.permission,
                                                                      _without(household, *PERSON_FIELDS))


def refusal(household: Household, user, spec: register.Transition) -> str:
    """Why this user cannot make the move now ("" when they can): the register's status, person and date rules."""
    try:
        register.check_status(household, spec.name)
    except register.TransitionError as error:
        return str(error)
    if not user.has_perm(spec.permission, household):
        return _personal_refusal(household, user, spec)
    check = PRECONDITIONS.get(spec.name)
    return check(household) if check else ""


def confirm_label(spec: register.Transition) -> str:
    return str(CONFIRM_LABELS.get(spec.name, spec.label))


# Who a file names: the rules keep the filer from reviewing it, the first reviewer from the second review and the
# proposer of a re-grade from confirming it.
PERSON_FIELDS = ("filed_by_id", "first_reviewed_by_id", "pending_category_by_id")


def _without(household: Household, *fields: str) -> Household:
    """A copy of the file that names nobody in these fields (a model's copy has its own cache of related rows)."""
    other = copy.copy(household)
    for field in fields:
        setattr(other, field, None)
    return other


def _named_in(household: Household, user, spec: register.Transition, field: str) -> bool:
    """Whether the user is the one this field names, and the move would be theirs were it someone else."""
    return getattr(household, field) == user.pk and user.has_perm(spec.permission, _without(household, field))


def _personal_refusal(household: Household, user, spec: register.Transition) -> str:
    """The person rule that keeps this user from the move, in the register's words."""
    if _named_in(household, user, spec, "filed_by_id"):
        return _raised(register._refuse_own_file, household, user)
    if _named_in(household, user, spec, "first_reviewed_by_id"):  # register.review says so inline
        return _("初审和复核须由两个不同的人办理：您已办理本档案的初审。")
    if _named_in(household, user, spec, "pending_category_by_id"):
        return _raised(register._check_regrade_decider, household, user)
    return _("您没有权限%(action)s。") % {"action": spec.label}


def _raised(check, *args) -> str:
    """The message of the register check, or "" when it lets the move through."""
    try:
        check(*args)
    except register.TransitionError as error:
        return str(error)
    return ""


# The checks of a move that depend on the day or on other records, in the register's words (the notice's end as the
# file page has always said it: its last day included). The register makes them inside the move (register.submit,
# finish_notice, request_transfer, open_relapse), where they cannot be called alone.

def _submission_refusal(household: Household) -> str:
    missing = register.missing_for_submission(household)
    return _("还不能提交：") + "；".join(missing) + "。" if missing else ""


def _notice_refusal(household: Household) -> str:
    ends_on = household.notice_ends_on
    if ends_on is None or timezone.localdate() <= ends_on:
        return _("公示至 %(date)s（含）止，期满后方可入档。") % {"date": ends_on.isoformat() if ends_on else "—"}
    if household.objections.filter(upheld__isnull=True).exists():
        return _("还有未核实的公示异议。")
    return ""


def _transfer_refusal(household: Household) -> str:
    if household.transfers.filter(accepted__isnull=True).exists():
        return _("该档案已有一项待接收的转移申请。")
    return ""


def _relapse_refusal(household: Household) -> str:
    if household.follow_up_until is None or timezone.localdate() > household.follow_up_until:
        return _("该家庭已过防返困跟踪期，请按新申请建档。")
    if Household.objects.filter(previous_episode=household).exists():
        return _("该档案已经重新建档。")
    return ""


PRECONDITIONS = {
    "submit": _submission_refusal,
    "finish_notice": _notice_refusal,
    "request_transfer": _transfer_refusal,
    "open_relapse": _relapse_refusal,
}
