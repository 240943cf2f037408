"""Scoped exports as file downloads, each recorded in the access log; and the one formula escape every export of
the project (csv and xlsx) writes its text cells through."""

import csv
import io
import itertools
from collections.abc import Iterable

import tablib
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from import_export.formats.base_formats import CSV, XLSX
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from hardship import audit
from hardship.models import AccessRecord

# Excel (and LibreOffice) run a cell starting with these as a formula: written text gets a leading apostrophe,
# which the import drops again (dossiers.legacy.fields).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def escape_cell(value):
    """A cell as an export writes it: text escaped, numbers, dates and empty cells as they are (-5 stays a number)."""
    return escape_formula(value) if isinstance(value, str) else value


def escaped_dataset(dataset: tablib.Dataset) -> tablib.Dataset:
    escaped = tablib.Dataset(headers=[escape_cell(header) for header in dataset.headers or []],
                             title=dataset.title)
    for row in dataset:
        escaped.append([escape_cell(cell) for cell in row])
    return escaped


class EscapedCSV(CSV):
    """django-import-export's own escape (IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT) only drops a leading "=" and turns
    every cell into text; these write the dataset through escape_formula instead."""

    def export_data(self, dataset, **kwargs):
        return escaped_dataset(dataset).export(self.get_title(), **kwargs)


class EscapedXLSX(XLSX):
    def export_data(self, dataset, **kwargs):
        return escaped_dataset(dataset).export(self.get_title(), **kwargs)


FORMATS = {"csv": EscapedCSV, "xlsx": EscapedXLSX}
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX.CONTENT_TYPE}


def table_content(file_format: str, headers: list[str], rows: Iterable[list], *, title: str) -> bytes:
    """A plain table as csv (with the BOM Excel in China needs) or as a one-sheet xlsx, every cell escaped."""
    if file_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([escape_cell(header) for header in headers])
        writer.writerows([escape_cell(cell) for cell in row] for row in rows)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    return workbook_content([(title, itertools.chain([headers], rows))])  # rows stay a stream


def workbook_content(sheets: list[tuple[str, Iterable[list]]]) -> bytes:
    """An xlsx of one sheet per (title, rows), every cell escaped."""
    workbook = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        for row in rows:
            sheet.append([_xlsx_cell(cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(value):
    """Escaped, without the control characters an xlsx cannot hold (a refused path may carry them)."""
    return escape_cell(ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value)


def attachment(content: bytes, file_format: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(filename)}.{file_format}"
    return response


def export_response(request: HttpRequest, resource, queryset, file_format: str, *, filename: str) -> HttpResponse:
    if file_format not in FORMATS:
        raise Http404
    export_format = FORMATS[file_format]()
    dataset = resource.export(queryset=queryset)
    dataset.title = sheet_title(resource)
    audit.record(request, AccessRecord.Action.EXPORT, f"{dataset.title} × {len(dataset)}（{filename}.{file_format}）",
                 union=request.user.home_union)
    content = export_format.export_data(dataset)
    if file_format == "csv":
        content = "\ufeff" + content  # Excel in China opens BOM-less UTF-8 CSV as GBK
    return attachment(content, file_format, filename)


def sheet_title(resource) -> str:
    """The Excel sheet's name (tablib calls it "Tablib Dataset" otherwise) and the access log's: the model's name,
    Chinese like the column headers whatever the user's language."""
    with translation.override("zh-hans"):
        return str(resource._meta.model._meta.verbose_name_plural)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)
