"""Model fields for personal data that must be encrypted at rest.

Bank cards and health notes are encrypted (EncryptedTextField); ID numbers are encrypted too and found by a keyed
digest (IdNumberField with its IdDigestField): HMAC-SHA256 under ID_NUMBER_DIGEST_KEY, a key of its own, so an
exact search and the unique indexes ("one open file per person") work on the digest while the number itself is
only ever ciphertext in the database, its history tables and its dumps. `manage.py rotate_keys` re-encrypts with
the first of FIELD_ENCRYPTION_KEYS and recomputes the digests after a key change.
"""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError
from django.db import models
from django.db.models.expressions import Col
from django.db.models.lookups import Exact, In, IsNull
from django.db.models.query_utils import DeferredAttribute


def _fernet(key: str) -> Fernet:
    # Any passphrase works: it is stretched to the 32-byte key Fernet wants.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


def fernets() -> list[Fernet]:
    """One for each of FIELD_ENCRYPTION_KEYS: the first encrypts; all of them decrypt, so keys can be rotated."""
    keys = tuple(settings.FIELD_ENCRYPTION_KEYS)
    if _fernets.get("keys") != keys:
        _fernets.update(keys=keys, fernets=[_fernet(key) for key in keys])
    return _fernets["fernets"]


_fernets: dict = {}


def encrypt(text: str) -> str:
    return fernets()[0].encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    return _decrypted(token)[0]


def rotate(token: str) -> str:
    """The token encrypted under the first key."""
    return MultiFernet(fernets()).rotate(token.encode()).decode()


def _decrypted(token: str) -> tuple[str, bool]:
    """The text, and whether the first (current) key encrypted it."""
    for index, fernet in enumerate(fernets()):
        try:
            return fernet.decrypt(token.encode()).decode(), index == 0
        except InvalidToken:
            continue
    raise InvalidToken


def id_digest(number: str) -> bytes:
    """The keyed digest of an ID number (as stored: 18 characters, a final X in capitals)."""
    return hmac.new(settings.ID_NUMBER_DIGEST_KEY.encode(), number.upper().encode(), hashlib.sha256).digest()


class Decrypted(str):
    """A value read from an encrypted column, with the ciphertext (under the current key) it was read from. Saved
    back unchanged, it keeps that ciphertext: every encryption of the same text differs, and a new one would write
    a history row (the history triggers compare the stored values) for a change nobody made."""

    ciphertext: str


class EncryptedTextField(models.TextField):
    """Text stored as Fernet ciphertext (FIELD_ENCRYPTION_KEYS). Encrypted values cannot be searched or sorted."""

    def get_prep_value(self, value):
        if isinstance(value, Decrypted):
            return value.ciphertext
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        try:
            text, current = _decrypted(value)
        except InvalidToken as error:
            raise ValueError(
                f"{self.model.__name__}.{self.name}: cannot decrypt (wrong FIELD_ENCRYPTION_KEYS?)") from error
        if not current:  # under a key being retired: saved, it is encrypted afresh under the current one
            return text
        plain = Decrypted(text)
        plain.ciphertext = value
        return plain


class _SetsDigest(DeferredAttribute):
    """Assigning an ID number sets its digest at once, so validation (the unique constraints on the digest) and
    bulk writes see it as well as save()."""

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value
        instance.__dict__[self.field.digest_attname] = id_digest(value) if value else None


class _DigestFollowsNumber(DeferredAttribute):
    """A digest left unset (__init__ gives it its default, b"", after setting the number) is the number's."""

    def __set__(self, instance, value):
        number = instance.__dict__.get(self.field.number_attname)
        instance.__dict__[self.field.attname] = id_digest(number) if not value and number else value


class _OnDigest:
    """`id_number=…` and `id_number__in=[…]` compare the keyed digests; ciphertext cannot be compared."""

    def __init__(self, lhs, rhs):
        if not isinstance(lhs, Col) or hasattr(rhs, "resolve_expression"):
            raise FieldError(f"{lhs!r}: an encrypted ID number is compared by its digest column "
                             f"(compare the *_digest columns of both sides)")
        field = lhs.target
        super().__init__(Col(lhs.alias, field.model._meta.get_field(field.digest_attname)), self.digests(rhs))


class _DigestExact(_OnDigest, Exact):
    @staticmethod
    def digests(rhs):
        return None if rhs is None else id_digest(str(rhs))


class _DigestIn(_OnDigest, In):
    @staticmethod
    def digests(rhs):
        return [id_digest(str(value)) for value in rhs]


class IdNumberField(EncryptedTextField):
    """An ID number, encrypted, with its keyed digest in the IdDigestField named `<name>_digest` of the same model
    (declare both). Exact and `in` lookups work (on the digest); nothing else can compare or sort it."""

    descriptor_class = _SetsDigest
    ALLOWED_LOOKUPS = {"exact": _DigestExact, "in": _DigestIn, "isnull": IsNull}

    @property
    def digest_attname(self) -> str:
        return f"{self.attname}_digest"

    def get_lookup(self, lookup_name):
        if lookup_name not in self.ALLOWED_LOOKUPS:
            raise FieldError(f"{self.model.__name__}.{self.name} is encrypted: only exact and in lookups work "
                             f"(on its keyed digest), not {lookup_name!r}")
        return self.ALLOWED_LOOKUPS[lookup_name]


class IdDigestField(models.BinaryField):
    """The HMAC-SHA256 of the ID number beside it (IdNumberField), set whenever that is assigned."""

    descriptor_class = _DigestFollowsNumber

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    @property
    def number_attname(self) -> str:
        return self.attname.removesuffix("_digest")
