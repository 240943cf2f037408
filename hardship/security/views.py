"""The account's security page, the second sign-in step (TOTP code or recovery code), setting up and switching off
two-factor sign-in, and the password change page."""

import io
import re

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from hardship.models import AccessRecord, User
from hardship.security.middleware import otp_required, second_step_done
from hardship.security.sessions import end_sessions
from hardship.security.signals import HAS_DEVICE, write

RECOVERY_CODES = 10


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("验证码"), max_length=16, strip=True,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}))


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse_lazy("home")


@login_required
def verify(request):
    """The second step: a code from the authenticator app, or one of the recovery codes (each works once). A wrong
    code counts as a failed sign-in of the account (django-axes): past the limit the session ends, locked."""
    if second_step_done(request):
        return redirect(_next_url(request))
    if not user_has_device(request.user):  # nothing to verify: set one up, or carry on
        return redirect("otp_setup" if otp_required(request.user) else _next_url(request))
    form = CodeForm(request.POST or None)
    if form.is_valid():
        device = _match(request.user, form.cleaned_data["code"].replace(" ", ""))
        if device is not None:
            otp_login(request, device)
            write(request, AccessRecord.Action.LOGIN, user=request.user, step=_("两步验证"))
            return redirect(_next_url(request))
        credentials = {"username": request.user.get_username()}
        user_login_failed.send(sender=__name__, credentials=credentials, request=request, step=_("两步验证"))
        if AxesProxyHandler.is_locked(request, credentials):
            logout(request)  # axes' middleware answers with its lockout page
            return redirect("login")
        form.add_error("code", _("验证码不正确或已使用，请重试。"))
    return render(request, "hardship/otp/verify.html", {"form": form, "next": _next_url(request)})


def _match(user, code: str):
    """The confirmed device that accepts the code (each device throttles its own failures)."""
    with transaction.atomic():
        for device in devices_for_user(user, for_verify=True):
            if device.verify_token(code):
                return device
    return None


@never_cache  # the secret and the recovery codes stay out of every cache
@login_required
def setup(request):
    """Enrol an authenticator app: scan the QR code (or type the secret), confirm with a first code; the recovery
    codes are then shown once."""
    if user_has_device(request.user):  # set up since this session began (in another one)
        request.session[HAS_DEVICE] = True
        return redirect("otp_verify")
    device, _created = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "TOTP"})
    form = CodeForm(request.POST or None)
    if form.is_valid():
        if device.verify_token(form.cleaned_data["code"].replace(" ", "")):
            codes = _confirm(device)
            otp_login(request, device)
            request.session[HAS_DEVICE] = True
            end_sessions(User.objects.filter(pk=request.user.pk), keep=request.session.session_key)
            write(request, AccessRecord.Action.LOGIN, user=request.user, step=_("两步验证"))
            return render(request, "hardship/otp/recovery_codes.html", {"codes": codes, "next": _next_url(request)})
        form.add_error("code", _("验证码不正确，请核对手机时间后重试。"))
    return render(request, "hardship/otp/setup.html", {
        "form": form, "qr_svg": _qr_svg(device.config_url), "secret": _secret(device), "next": _next_url(request),
        "otp_required": otp_required(request.user),
    })


@transaction.atomic
def _confirm(device: TOTPDevice) -> list[str]:
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=device.user).delete()
    recovery = StaticDevice.objects.create(user=device.user, name=_("恢复码"), confirmed=True)
    codes = [StaticToken.random_token() for _n in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token=code) for code in codes])
    return codes


def _qr_svg(text: str) -> str:
    buffer = io.BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10).save(buffer)
    svg = buffer.getvalue().decode()
    # Inside the page: no XML declaration, and no fixed size, so that it fills the card at any width.
    svg = svg[svg.index("<svg"):]
    return re.sub(r'^<svg width="[^"]*" height="[^"]*"', "<svg", svg)


def _secret(device: TOTPDevice) -> str:
    from base64 import b32encode

    key = b32encode(device.bin_key).decode()
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


@login_required
@require_GET
def account(request):
    return render(request, "hardship/otp/account.html", {
        "has_otp": user_has_device(request.user), "otp_required": otp_required(request.user),
        "recovery_left": StaticToken.objects.filter(device__user=request.user, device__confirmed=True).count(),
    })


@login_required
@require_POST
def disable(request):
    """Switch off two-factor sign-in: only where the role does not require it."""
    if otp_required(request.user):
        messages.error(request, _("您的角色必须使用两步验证，不能关闭。"))
    else:
        for device in devices_for_user(request.user, confirmed=None):
            device.delete()
        request.session[HAS_DEVICE] = False
        messages.success(request, _("已关闭两步验证。"))
    return redirect("account_security")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's (it keeps this session and ends the user's others), back to the account page with a message."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("account_security")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("密码已修改。"))
        return response
