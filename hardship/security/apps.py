from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "hardship.security"
    label = "hardship_security"
    verbose_name = _("登录安全")

    def ready(self):
        from django.contrib import admin
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from hardship.security import signals  # noqa: F401  (connects the receivers)

        # django-otp's admin shows TOTP keys and recovery codes: secrets stay out of the admin.
        for model in (TOTPDevice, StaticDevice):
            if admin.site.is_registered(model):
                admin.site.unregister(model)
