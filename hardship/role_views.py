"""The security administrator's page: the account requests of system administrators, to approve or reject."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hardship import roles


def _require_security(request: HttpRequest) -> None:
    if not request.user.has_perm("hardship.approve_role"):
        raise PermissionDenied


@login_required
@require_GET
def role_requests(request: HttpRequest) -> HttpResponse:
    _require_security(request)
    pending = list(roles.pending_for(request.user))
    for user in pending:
        user.is_new = user.last_login is None and not user.is_active
    return render(request, "hardship/role_requests.html", {"pending": pending})


@login_required
@require_POST
def decide_role_request(request: HttpRequest, user_id: int, decision: str) -> HttpResponse:
    _require_security(request)
    decide = {"approve": roles.approve, "reject": roles.reject}.get(decision)
    if decide is None:
        raise PermissionDenied
    try:
        user = decide(user_id, by=request.user)
    except roles.ApprovalError as error:
        messages.error(request, str(error))
    else:
        done = _("已批准 %(name)s 的账号申请。") if decision == "approve" else _("已驳回 %(name)s 的账号申请。")
        messages.success(request, done % {"name": user})
    return redirect("role_requests")
