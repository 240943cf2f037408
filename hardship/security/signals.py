"""The sign-in audit (hardship.models.AccessRecord, append-only) and the session's sign-in time."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device

from hardship import audit
from hardship.models import AccessRecord

SIGNED_IN_AT = "signed_in_at"  # session key: when the password step succeeded (the absolute session limit)
AUDIT_LOGIN = "hardship_security_audit_login"  # the receiver's id (tests' force_login leaves it out)
SEEN_AT = "seen_at"  # session key: the last request's time, to a minute (the idle limit)
HAS_DEVICE = "has_second_factor"  # session key: whether the user had a confirmed device then (no query a request)


def write(request, action: str, user=None, username: str = "", succeeded: bool = True, step: str = "") -> AccessRecord:
    """One sign-in record; its subject is the account name, and the step when it is not the password."""
    name = user.get_username() if user else username
    return audit.record(request, action, f"{name} · {step}" if step else name,
                        union=getattr(user, "home_union", None), succeeded=succeeded, user=user, username=username)


@receiver(user_logged_in, dispatch_uid="hardship_security_session")
def start_session(sender, request, user, **kwargs):
    if request is None:
        return
    # A new password sign-in needs its own second step, even in a session that had one.
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    request.session[SIGNED_IN_AT] = request.session[SEEN_AT] = timezone.now().timestamp()
    request.session[HAS_DEVICE] = user_has_device(user)


@receiver(user_logged_in, dispatch_uid=AUDIT_LOGIN)
def signed_in(sender, request, user, **kwargs):
    if request is not None:
        write(request, AccessRecord.Action.LOGIN, user=user)


@receiver(user_logged_out, dispatch_uid="hardship_security_logged_out")
def signed_out(sender, request, user, **kwargs):
    if user is not None:
        write(request, AccessRecord.Action.LOGOUT, user=user)


@receiver(user_login_failed, dispatch_uid="hardship_security_login_failed")
def sign_in_failed(sender, credentials, request=None, step: str = "", **kwargs):
    """A wrong password, or a wrong code at the second step (`step`, sent by the verify view)."""
    username = str(credentials.get(get_user_model().USERNAME_FIELD) or "")
    # The account named, when there is one, so that the audit finds failures by person; as typed otherwise.
    user = get_user_model().objects.filter(username=username).select_related("home_union").first()
    write(request, AccessRecord.Action.LOGIN_FAILED, user=user, username=username, succeeded=False, step=step)
