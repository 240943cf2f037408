"""Ending a user's sessions server-side (the administrator's action on the user list)."""

from django.contrib import admin, messages
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


def end_sessions(users) -> int:
    """Delete every unexpired session of these users; returns how many. Sessions are signed blobs without a user
    column, so each is decoded (an administrator's occasional action, not a request path)."""
    ids = {str(pk) for pk in users.values_list("pk", flat=True)}
    ended = [session.pk for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
             if session.get_decoded().get(SESSION_KEY) in ids]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


@admin.action(description=_("强制退出所选用户的全部会话"))
def end_sessions_action(modeladmin, request, queryset):
    count = end_sessions(queryset)
    modeladmin.message_user(request, ngettext("已结束 %(count)d 个会话。", "已结束 %(count)d 个会话。", count)
                            % {"count": count}, messages.SUCCESS)
