from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HardshipConfig(AppConfig):
    name = "hardship"
    verbose_name = _("组织与用户")

    def ready(self):
        from hardship import checks  # noqa: F401  (registers the deploy checks)
