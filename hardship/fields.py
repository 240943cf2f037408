"""Model fields for personal data that must be encrypted at rest."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models
from django.utils.functional import cached_property


def _fernet(key: str) -> Fernet:
    # Any passphrase works: it is stretched to the 32-byte key Fernet wants.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


class EncryptedTextField(models.TextField):
    """Text stored as Fernet ciphertext. The first key in FIELD_ENCRYPTION_KEYS encrypts; all of
    them decrypt, so keys can be rotated. Encrypted values cannot be searched or sorted."""

    @cached_property
    def cipher(self) -> MultiFernet:
        return MultiFernet([_fernet(key) for key in settings.FIELD_ENCRYPTION_KEYS])

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return self.cipher.encrypt(value.encode()).decode()

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        try:
            return self.cipher.decrypt(value.encode()).decode()
        except InvalidToken as error:
            raise ValueError(
                f"{self.model.__name__}.{self.name}: cannot decrypt (wrong FIELD_ENCRYPTION_KEYS?)") from error
