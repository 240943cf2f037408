"""Set-based writes for large batches (imports, benchmarks): PostgreSQL COPY from Python rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection
from psycopg.copy import QueuedLibpqWriter


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY rows in; a queued writer sends from a thread, so building rows here overlaps the server's work."""
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN", writer=QueuedLibpqWriter(raw)) as copy:
            for row in rows:
                copy.write_row(row)
