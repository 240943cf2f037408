"""What reading columns by meaning costs the import: the imports bench's register (bench/imports.py, cached in
bench/.cache/), parsed by dossiers.legacy.rows.parse_sheets with and without the recogniser's per-cell work (the
typed-apostrophe strip, the yes/no-in-the-question's-words wrapper, the column descriptions), interleaved in one
process, timed as CPU time (the machines are shared: wall time swings ±20 % with the neighbours' load). The header
recognition itself runs once per sheet and is timed on its own.

    ./dev bench recogniser                # 100,000 households; --households N for another size
"""

from __future__ import annotations

import gc
import statistics
import time

from bench.imports import HOUSEHOLDS, workbook
from dossiers.legacy import fields, headers, rows
from dossiers.legacy.reading import read_workbook

RUNS = 4


def _parse(sheets, parts) -> float:
    rows._typed, fields.yes_no_for, rows._describe_columns = parts
    gc.collect()
    gc.disable()  # as the import does (importer._without_cyclic_gc)
    try:
        start = time.process_time()
        rows.parse_sheets(sheets)
        return time.process_time() - start
    finally:
        gc.enable()


def _headers(sheets) -> float:
    start = time.process_time()
    for sheet in sheets:
        index, header, above = headers.find_header(sheet.rows)
        headers.map_headers(header, sheet_name=sheet.name, context=above)
    return time.process_time() - start


def run() -> list[dict]:
    path, _info = workbook(HOUSEHOLDS)
    sheets = read_workbook(path.read_bytes(), path.name)
    total = sum(len(sheet.rows) for sheet in sheets)
    real = (rows._typed, fields.yes_no_for, rows._describe_columns)
    bare = (lambda cell: cell, lambda parse, header: parse, lambda *args: None)
    timings: dict[str, list[float]] = {"without": [], "with": []}
    try:
        for _ in range(RUNS):
            timings["without"].append(_parse(sheets, bare))
            timings["with"].append(_parse(sheets, real))
    finally:
        rows._typed, fields.yes_no_for, rows._describe_columns = real
    baseline = statistics.median(timings["without"])
    result = [{"what": "header recognition, every sheet", "runs": 1, "cpu s": _headers(sheets), "rows": total}]
    for label, key in (("parse_sheets without the recogniser's per-cell work", "without"),
                       ("parse_sheets with it", "with")):
        median = statistics.median(timings[key])
        result.append({"what": label, "runs": RUNS, "cpu s": median, "rows": total,
                       "runs s": " ".join(f"{t:.1f}" for t in timings[key]), "× baseline": median / baseline})
    return result
