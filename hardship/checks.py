"""System checks for production (`manage.py check --deploy`)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def personal_data_keys(app_configs, **kwargs) -> list[checks.Warning]:
    """The keys of the encrypted personal data must be set on their own: derived from DJANGO_SECRET_KEY, a change of
    that key (routine after a leak) would make every ID number, card and health note unreadable."""
    found = []
    if list(settings.FIELD_ENCRYPTION_KEYS) == [settings.SECRET_KEY]:
        found.append(checks.Warning("FIELD_ENCRYPTION_KEYS is not set: personal data is encrypted with "
                                    "DJANGO_SECRET_KEY.", hint="Set FIELD_ENCRYPTION_KEYS; keep it apart from backups.",
                                    id="hardship.W001"))
    if settings.ID_NUMBER_DIGEST_KEY == f"id-number-digest:{settings.SECRET_KEY}":
        found.append(checks.Warning("ID_NUMBER_DIGEST_KEY is not set: ID-number digests are keyed by "
                                    "DJANGO_SECRET_KEY.", hint="Set ID_NUMBER_DIGEST_KEY; keep it apart from backups.",
                                    id="hardship.W002"))
    return found
