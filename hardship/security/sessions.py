"""Ending a user's sessions server-side, and resetting a lost authenticator (actions on the admin's user list)."""

from django.contrib import admin, messages
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


def end_sessions(users, keep: str | None = None) -> int:
    """Delete every unexpired session of these users but `keep` (a session key); returns how many. Sessions are
    signed blobs without a user column, so each is decoded (an occasional action, not a request path)."""
    ids = {str(pk) for pk in users.values_list("pk", flat=True)}
    ended = [session.pk for session in Session.objects.filter(expire_date__gt=timezone.now()).exclude(pk=keep)
             .iterator() if session.get_decoded().get(SESSION_KEY) in ids]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


@admin.action(description=_("强制退出所选用户的全部会话"), permissions=["end_sessions"])
def end_sessions_action(modeladmin, request, queryset):
    count = end_sessions(queryset)
    modeladmin.message_user(request, ngettext("已结束 %(count)d 个会话。", "已结束 %(count)d 个会话。", count)
                            % {"count": count}, messages.SUCCESS)


@admin.action(description=_("重置所选用户的两步验证（手机丢失时）"), permissions=["reset_two_factor"])
def reset_two_factor_action(modeladmin, request, queryset):
    """The user's authenticator and recovery codes go, and so do their sessions: a role that needs two steps sets
    a new authenticator up at the next sign-in. A security administrator's action, written to the access record."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from hardship import audit
    from hardship.models import AccessRecord

    users = list(queryset.exclude(pk=request.user.pk))
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user__in=users).delete()
    end_sessions(queryset.filter(pk__in=[user.pk for user in users]))
    for user in users:
        audit.record(request, AccessRecord.Action.RESET_2FA, user.username,
                     union=user.home_union)
    done = ngettext("已重置 %(count)d 个账号的两步验证。", "已重置 %(count)d 个账号的两步验证。", len(users))
    modeladmin.message_user(request, done % {"count": len(users)}, messages.SUCCESS)
