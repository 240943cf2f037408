"""Checks on every signed-in request, in this order (settings.MIDDLEWARE): the absolute session limit, the second
sign-in step, the password's age. Each lets through the pages a user needs to satisfy it."""

import datetime
import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY

from hardship.security.signals import HAS_DEVICE, SEEN_AT, SIGNED_IN_AT

TOUCH_SECONDS = 60  # how stale SEEN_AT may get before a request writes it

# Paths that stay open to a signed-in user who still owes a step: signing out, the language, static files.
ALWAYS_OPEN = ("logout", "set_language")


@functools.cache  # the URLs are fixed once the URLconf is loaded: not reversed on every request
def _open_paths(*names: str) -> tuple[str, ...]:
    return tuple(reverse(name) for name in (*ALWAYS_OPEN, *names))


def _is_open(request, names: tuple[str, ...]) -> bool:
    return request.path.startswith("/" + settings.STATIC_URL.lstrip("/")) or request.path in _open_paths(*names)


def second_step_done(request) -> bool:
    """django_otp.login put the device in this (server-side) session after its code was checked. Read from the
    session: django-otp's middleware would load the device on every request."""
    return DEVICE_ID_SESSION_KEY in request.session


def otp_required(user) -> bool:
    return user.role in settings.OTP_REQUIRED_ROLES


class SessionLimitMiddleware:
    """Ends a session idle for SESSION_COOKIE_AGE seconds, or SESSION_ABSOLUTE_HOURS after its password sign-in
    however busy. The last request's time is written at most once a minute (not a session write per request); the
    session row's own expiry, renewed with it, ends the session on the server too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = timezone.now().timestamp()
            if self._expired(request, now):
                logout(request)
                messages.info(request, _("登录已超时，请重新登录。"))
                return redirect_to_login(request.get_full_path())
            if now - request.session.get(SEEN_AT, 0) > TOUCH_SECONDS:
                request.session[SEEN_AT] = now
        return self.get_response(request)

    @staticmethod
    def _expired(request, now: float) -> bool:
        signed_in_at = request.session.get(SIGNED_IN_AT)
        if signed_in_at is None:
            return True
        absolute = datetime.timedelta(hours=settings.SESSION_ABSOLUTE_HOURS).total_seconds()
        seen_at = request.session.get(SEEN_AT, signed_in_at)
        return now - signed_in_at > absolute or now - seen_at > settings.SESSION_COOKIE_AGE


class TwoFactorMiddleware:
    """After the password: a user with a confirmed device enters a code; one whose role requires a second factor
    and who has none sets it up first. Nothing else opens until then."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated or second_step_done(request):
            return self.get_response(request)
        if request.session.get(HAS_DEVICE):
            step = "otp_verify"
        elif otp_required(user):
            step = "otp_setup"
        else:
            return self.get_response(request)
        if _is_open(request, ("otp_verify", "otp_setup")):
            return self.get_response(request)
        return redirect_to_login(request.get_full_path(), login_url=reverse(step))


class PasswordAgeMiddleware:
    """Sends a user whose password is older than PASSWORD_MAX_AGE_DAYS (0: never) to change it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and password_expired(user) and not _is_open(
                request, ("password_change", "otp_verify", "otp_setup")):
            messages.warning(request, _("密码已超过规定的使用期限，请先修改密码。"))
            return redirect("password_change")
        return self.get_response(request)


def password_expired(user) -> bool:
    days = settings.PASSWORD_MAX_AGE_DAYS
    if not days:
        return False
    changed = user.password_changed_at or user.date_joined
    return timezone.now() - changed > datetime.timedelta(days=days)
