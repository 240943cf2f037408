from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossiersConfig(AppConfig):
    name = "dossiers"
    verbose_name = _("困难职工档案")

    def ready(self) -> None:
        from dossiers import pairing  # noqa: F401  (connects the pairing to the register's hook)
