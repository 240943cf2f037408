"""Scoped exports as file downloads, each recorded in the access log."""

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from import_export.formats.base_formats import CSV, XLSX

from hardship.models import AccessRecord

FORMATS = {"csv": CSV, "xlsx": XLSX}


def export_response(request: HttpRequest, resource, queryset, file_format: str, *, filename: str) -> HttpResponse:
    if file_format not in FORMATS:
        raise Http404
    export_format = FORMATS[file_format]()
    dataset = resource.export(queryset=queryset)
    dataset.title = sheet_title(resource)
    AccessRecord.objects.create(
        user=request.user, action=AccessRecord.Action.EXPORT,
        subject=f"{dataset.title} × {len(dataset)}（{filename}.{file_format}）",
        union=request.user.home_union,
    )
    content = export_format.export_data(dataset)
    if file_format == "csv":
        content = "\ufeff" + content  # Excel in China opens BOM-less UTF-8 CSV as GBK
    response = HttpResponse(content, content_type=export_format.get_content_type())
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(filename)}.{file_format}"
    return response


def sheet_title(resource) -> str:
    """The Excel sheet's name (tablib calls it "Tablib Dataset" otherwise) and the access log's: the model's name,
    Chinese like the column headers whatever the user's language."""
    with translation.override("zh-hans"):
        return str(resource._meta.model._meta.verbose_name_plural)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)
