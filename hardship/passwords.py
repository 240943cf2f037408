"""Password rules of 等保 level 3 beyond Django's validators (settings.AUTH_PASSWORD_VALIDATORS): characters of
several kinds, and the date a password was set, from which it expires (PASSWORD_MAX_AGE_DAYS)."""

import string

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

KINDS = (str.isupper, str.islower, str.isdigit, lambda c: c in string.punctuation or c == " ")


class CharacterKindsValidator:
    """At least `min_kinds` of: upper-case letters, lower-case letters, digits, symbols."""

    def __init__(self, min_kinds: int = 3):
        self.min_kinds = min_kinds

    def validate(self, password: str, user=None) -> None:
        if sum(any(kind(c) for c in password) for kind in KINDS) < self.min_kinds:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return _("密码须包含大写字母、小写字母、数字、符号中的至少 %(count)d 种。") % {"count": self.min_kinds}


class PasswordDateRecorder:
    """Records User.password_changed_at. Not a check: Django calls every validator's password_changed() when a
    user saved after set_password() (a form, the admin, the shell, the demo loader) has a new password."""

    def validate(self, password: str, user=None) -> None:
        pass

    def password_changed(self, password: str, user=None) -> None:
        if user is None or user.pk is None:
            return
        user.password_changed_at = timezone.now()
        type(user).objects.filter(pk=user.pk).update(password_changed_at=user.password_changed_at)

    def get_help_text(self) -> str:
        days = settings.PASSWORD_MAX_AGE_DAYS
        return _("密码每 %(days)d 天须修改一次。") % {"days": days} if days else ""
