"""Re-encrypt every encrypted column under the first of FIELD_ENCRYPTION_KEYS and recompute every ID number's
digest under ID_NUMBER_DIGEST_KEY: the files, the rosters, their history tables and the rejected rows an import
keeps for a day. The history triggers are ignored meanwhile: a rotation changes no one's data.

    python manage.py rotate_keys

A new encryption key: put it first in FIELD_ENCRYPTION_KEYS with the old one after it, restart, run this, then
drop the old key. A new digest key: stop the application (searches and the one-open-file check read the digests),
set ID_NUMBER_DIGEST_KEY, run this, start it again. It all happens in one transaction: a rotation that stops
(a value no key decrypts) changes nothing.
"""

import pgtrigger
from cryptography.fernet import InvalidToken
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from hardship import fields

BATCH = 2000


def encrypted_columns(model) -> list:
    return [field for field in model._meta.concrete_fields if isinstance(field, fields.EncryptedTextField)]


def rotate_table(model) -> int:
    """Rotate one table's encrypted columns and digests; returns the number of rows rewritten."""
    columns = encrypted_columns(model)
    numbers = [field for field in columns if isinstance(field, fields.IdNumberField)]
    digests = [model._meta.get_field(field.digest_attname).column for field in numbers]
    key, table = model._meta.pk.column, model._meta.db_table
    select = (f"SELECT {key}, {', '.join(field.column for field in columns)} FROM {table} "
              f"WHERE {key} > %s ORDER BY {key} LIMIT {BATCH}")
    arrays = (["unnest(%s::bigint[]) AS key"] + [f"unnest(%s::text[]) AS {field.column}" for field in columns]
              + [f"unnest(%s::bytea[]) AS {column}" for column in digests])
    assignments = [f"{column} = v.{column}" for column in [field.column for field in columns] + digests]
    update = f"UPDATE {table} t SET {', '.join(assignments)} FROM (SELECT {', '.join(arrays)}) v WHERE t.{key} = v.key"
    rewritten, last = 0, 0
    with pgtrigger.ignore(), connection.cursor() as cursor:
        while True:
            cursor.execute(select, [last])
            rows = cursor.fetchall()
            if not rows:
                return rewritten
            last = rows[-1][0]
            by_column = list(zip(*(row[1:] for row in rows)))
            rotated = [[_rotate(token) for token in tokens] for tokens in by_column]
            digested = [[_digest(token) for token in by_column[columns.index(field)]] for field in numbers]
            cursor.execute(update, [[row[0] for row in rows], *rotated, *digested])
            rewritten += len(rows)


def _rotate(token: str | None) -> str | None:
    return fields.rotate(token) if token else token


def _digest(token: str | None) -> bytes | None:
    return fields.id_digest(fields.decrypt(token)) if token else None


def rotate_rejected_rows() -> int:
    """The cells of the rejected rows imports keep for a day, each row one ciphertext inside the report."""
    from dossiers.legacy.models import ImportBatch

    rotated = 0
    due = (ImportBatch.objects.select_for_update().filter(report__has_key="rejected_rows")
           .exclude(report__has_key="rejected_rows_deleted_at"))
    for batch in due:
        rows = [{**row, "cells": _rotate(row["cells"])} if isinstance(row.get("cells"), str) else row
                for row in batch.report["rejected_rows"]]
        ImportBatch.objects.filter(pk=batch.pk).update(report={**batch.report, "rejected_rows": rows})
        rotated += 1
    return rotated


class Command(BaseCommand):
    help = "Re-encrypt the encrypted columns under the first FIELD_ENCRYPTION_KEYS key and recompute ID digests."

    def handle(self, *args, **options):
        models = [model for model in apps.get_models()
                  if model._meta.managed and not model._meta.proxy and encrypted_columns(model)]
        try:
            with transaction.atomic():
                for model in models:
                    count = rotate_table(model)
                    self.stdout.write(_("%(table)s：%(count)s 行") % {"table": model._meta.db_table, "count": count})
                batches = rotate_rejected_rows()
        except InvalidToken as error:
            message = _("有数据无法用 FIELD_ENCRYPTION_KEYS 中的任何一个密钥解密：请把旧密钥留在列表中再运行。")
            raise CommandError(message) from error
        self.stdout.write(_("导入批次（有误的行）：%(count)s 个") % {"count": batches})
        self.stdout.write(self.style.SUCCESS(_("密钥轮换完成。")))
