"""The administrator's import of legacy registers, inside the admin site (unfold layout):
upload → preview → confirm → progress → report, and the rejected rows to download, fix and import again.

One page per batch shows whatever the batch is at: the preview with the confirm button, the progress bar (htmx polls
it while Celery previews a large file or runs the import) or the final report. Progress comes from the Celery result
backend (the task's update_state): the import runs in one transaction, so a progress column on the batch would stay
invisible until it commits. The pages answer 403 to users without admin access (not the admin's redirect to its
login): they are reached from links in the application, and a caseworker should be told, not asked to sign in again.
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
from datetime import date
from functools import wraps
from pathlib import PureWindowsPath

import openpyxl
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Func, JSONField
from django.db.models.fields.json import KT
from django.db.models.functions import JSONObject
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from unfold.decorators import display
from unfold.widgets import UnfoldAdminRadioSelectWidget, UnfoldAdminSelectWidget

from dossiers import tasks
from dossiers.legacy import admin_mapping
from dossiers.legacy.importer import rejected_rows_xlsx
from dossiers.legacy.layout import HOUSEHOLD_COLUMNS, HOUSEHOLD_SHEET, MEMBER_COLUMNS, MEMBER_SHEET
from dossiers.legacy.models import ImportBatch
from dossiers.legacy.reading import MAX_BYTES, UnreadableFile, read_workbook
from dossiers.tasks import finish, preview_batch, preview_import, run_import_batch
from hardship import audit, idnumbers
from hardship.access import get_visible_or_404
from hardship.admin import ReadOnlyMixin, ScopedAdmin
from hardship.celery import app as celery_app
from hardship.exports import _quote
from hardship.models import AccessRecord, Union

logger = logging.getLogger(__name__)

# Above either, the preview itself runs in Celery (with the progress bar) rather than in the request.
LARGE_BYTES = 2 * 1024 * 1024
LARGE_ROWS = 5_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
State = ImportBatch.State
MODE_HELP = {
    ImportBatch.Mode.ALL_OR_NOTHING: _("文件中只要有一行有误，就什么都不导入；改好后整份文件重新上传。"),
    ImportBatch.Mode.SKIP_INVALID: _("导入无误的户；有误的户整户跳过，可下载有误的行，改好后再导入。"),
}
STATE_TYPES = {State.DONE: "success", State.REFUSED: "warning", State.FAILED: "danger", State.UNREADABLE: "danger",
               State.QUEUED: "info", State.RUNNING: "info", State.PREVIEWED: "primary"}
UPLOAD_NOTES = [
    _("可以直接上传原有台账：标题行、空行、合计行和没有表头的工作表（如“填表说明”）会自动跳过；列按列名的含义识别，"
      "识别不了或识别错的列，可以在预览的“列映射”中指定，并保存给本单位下次使用。"),
    _("每户至少要有职工姓名和身份证号码；其他家庭成员可以放在“家庭成员”工作表中，用“户主身份证号”对应到户。"),
    _("已在系统中的户按身份证号码更新，不会重复建档；同一份文件导入两次不会改变任何数据。"),
    _("身份证号码列请设为文本格式，否则 Excel 会丢掉后几位。"),
    _("上传后先预览：显示将新建、更新的户和有误的行及原因，确认后才写入。"),
]
COUNT_KEYS = ["households_created", "households_updated", "households_unchanged", "rejected_rows_total",
              "skipped_total"]


# --- the upload form ------------------------------------------------------------------------------------------

class UnionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, union: Union) -> str:
        return "\u3000" * max(union.depth - self.top_depth, 0) + union.name


class UploadForm(forms.Form):
    file = forms.FileField(label=_("文件"), help_text=format_lazy(_("Excel（.xlsx、.xls）或 CSV 文件，最大 {max} MB"),
                                                                  max=MAX_BYTES // 2 ** 20))
    union = UnionChoiceField(label=_("导入到单位"), queryset=Union.objects.none(), widget=UnfoldAdminSelectWidget,
                             help_text=_("新建的档案归属此单位；已有的档案按身份证号码更新，归属不变"))
    mode = forms.ChoiceField(label=_("导入方式"), choices=ImportBatch.Mode.choices,
                             widget=UnfoldAdminRadioSelectWidget,
                             initial=ImportBatch.Mode.ALL_OR_NOTHING)

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        union_field = self.fields["union"]
        union_field.queryset = Union.objects.visible_to(user).filter(is_active=True).order_by("path")
        union_field.top_depth = user.home_union.depth if user.home_union_id else 0
        union_field.initial = user.home_union_id

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("文件太大：最大 %(max)d MB；请拆分后分批导入") % {"max": MAX_BYTES // 2 ** 20})
        return upload

    def mode_options(self) -> list[tuple]:
        field = self["mode"]
        return [(option, MODE_HELP[option.data["value"]]) for option in field]


# --- the batch's life -----------------------------------------------------------------------------------------

def receive_upload(upload, *, union: Union, mode: str, user) -> ImportBatch:
    """A batch for the upload: unreadable at once, previewed in the request when small, or queued for a preview."""
    data = upload.read()
    batch = ImportBatch(union=union, uploaded_by=user, mode=mode, size=len(data),
                        file_name=PureWindowsPath(upload.name).name[-255:], sha256=hashlib.sha256(data).hexdigest())
    saved = admin_mapping.saved_mapping(union)
    batch.mapping = saved.mapping if saved else {}
    batch.language = translation.get_language() or ""
    try:
        large = len(data) > LARGE_BYTES or sum(len(s.rows) for s in read_workbook(data, upload.name)) > LARGE_ROWS
    except UnreadableFile as error:
        # Kept (without the file) so the list shows every attempt, and who made it.
        batch.state, batch.preview, batch.finished_at = State.UNREADABLE, {"error": error.message}, timezone.now()
        batch.save()
        return batch
    suffix = PureWindowsPath(upload.name).suffix.lower()
    batch.file.save(f"{uuid.uuid4().hex}{suffix}", ContentFile(data), save=False)  # not the name: it may be a person's
    if not large:
        batch.save()
        return preview_batch(batch, data=data)
    batch.task_id = uuid.uuid4().hex
    with transaction.atomic():
        batch.save()
        transaction.on_commit(lambda: _queue_preview(batch))
    return batch


def preview_again(batch: ImportBatch, *, rows: int = 0) -> ImportBatch:
    """The preview of a batch whose mapping changed: in the request when small, else queued (the progress bar)."""
    if batch.size <= LARGE_BYTES and rows <= LARGE_ROWS:
        return preview_batch(batch)
    batch.task_id = uuid.uuid4().hex
    with transaction.atomic():
        ImportBatch.objects.filter(pk=batch.pk).update(task_id=batch.task_id)
        transaction.on_commit(lambda: _queue_preview(batch))
    return batch


def _queue_preview(batch: ImportBatch) -> None:
    try:
        preview_import.apply_async((batch.pk,), task_id=batch.task_id)
    except Exception as error:  # the broker is down: say so rather than show a preview that never comes
        logger.error("Could not queue the preview of import batch %s: %s", batch.pk, type(error).__name__)
        finish(batch, State.FAILED, {"failure": "queue"})


def confirm_batch(batch: ImportBatch) -> bool:
    """PREVIEWED → QUEUED once (a conditional update), and the import queued when that commits."""
    task_id = uuid.uuid4().hex
    with transaction.atomic():
        queued = (ImportBatch.objects.filter(pk=batch.pk, state=State.PREVIEWED).exclude(preview={})
                  .update(state=State.QUEUED, task_id=task_id, report=_queued_now()))
        if queued:
            transaction.on_commit(lambda: _queue_import(batch.pk, task_id))
    return bool(queued)


def _queued_now() -> dict:
    return {"queued_at": timezone.now().isoformat()}  # until the import's report: see tasks.fail_stale_imports


def restart_batch(batch: ImportBatch) -> bool:
    """An interrupted import (FAILED "stale", its upload still there) → QUEUED once, and queued when that commits."""
    task_id = uuid.uuid4().hex
    with transaction.atomic():
        queued = (ImportBatch.objects.filter(pk=batch.pk, state=State.FAILED, report__failure="stale")
                  .exclude(file="").update(state=State.QUEUED, task_id=task_id, report=_queued_now(),
                                           finished_at=None))
        if queued:
            transaction.on_commit(lambda: _queue_import(batch.pk, task_id))
    return bool(queued)


def can_restart(batch: ImportBatch, report: dict) -> bool:
    return batch.state == State.FAILED and report.get("failure") == "stale" and bool(batch.file)


def _queue_import(batch_id: int, task_id: str) -> None:
    try:
        run_import_batch.apply_async((batch_id,), task_id=task_id)
    except Exception as error:  # the broker is down: back to the preview, to be confirmed again later
        logger.error("Could not queue import batch %s: %s", batch_id, type(error).__name__)
        ImportBatch.objects.filter(pk=batch_id, state=State.QUEUED).update(state=State.PREVIEWED, task_id="")


def stage(batch: ImportBatch) -> str:
    if batch.state == State.PREVIEWED:
        return "preview" if batch.preview else "previewing"
    if batch.state in (State.QUEUED, State.RUNNING):
        return "running"
    return "finished"


def task_progress(batch: ImportBatch) -> tuple[int, int] | None:
    """(rows done, total) as the task last reported it; None before it has started or without a result backend."""
    if not batch.task_id or celery_app.conf.task_always_eager:
        return None
    try:
        result = celery_app.AsyncResult(batch.task_id)
        info = result.info if result.state == "PROGRESS" else None
    except Exception:  # Redis away: the page still shows the state, without the bar's figure
        return None
    if isinstance(info, dict) and info.get("total"):
        return int(info["done"]), int(info["total"])
    return None


# --- the example workbook -------------------------------------------------------------------------------------

def _example_people() -> list[dict]:
    def person(name, sex, born, seq, relationship, **cells):
        return {"name": name, "sex": "男" if sex == "M" else "女", "birth_date": born.isoformat(),
                "id_number": idnumbers.generate("410102", born, seq, sex), "relationship": relationship, **cells}

    return [
        {"head": person("张建国", "M", date(1975, 3, 7), 101, "本人", employer="郑州第一纺织厂", work_status="下岗",
                        health="健康", phone="13800001111", monthly_income="1200",
                        address="郑州市中原区建设路12号院3号楼2单元501", causes="3、9", annual_income="31000",
                        income_wages="26400", income_transfers="4600", cost_schooling="6000",
                        housing_type="租赁私房", legacy_category="相对困难", single_parent="否"),
         "members": [person("李秀英", "F", date(1977, 8, 19), 102, "配偶", employer="个体", work_status="在岗",
                            monthly_income="1000"),
                     person("张晓明", "M", date(2008, 5, 1), 103, "子女", employer="郑州市第五十中学",
                            work_status="在校", monthly_income="0")]},
        {"head": person("王秀兰", "F", date(1980, 11, 20), 104, "本人", employer="中原区环卫所", work_status="在岗",
                        health="慢性病", phone="13900002222", monthly_income="1600",
                        address="郑州市中原区桐柏路8号院1号楼3单元202", causes="6", annual_income="19200",
                        income_wages="19200", cost_illness="8000", housing_type="公租房",
                        legacy_category="深度困难", single_parent="是"),
         "members": [person("刘晓红", "F", date(2010, 9, 3), 105, "子女", employer="郑州市桐柏路小学",
                            work_status="在校", monthly_income="0")]},
    ]


def example_workbook() -> bytes:
    """The import layout (dossiers.legacy.layout) with two example households, to start from."""
    workbook = openpyxl.Workbook()
    households = workbook.active
    households.title = HOUSEHOLD_SHEET
    members = workbook.create_sheet(MEMBER_SHEET)
    households.append([header for _field, header in HOUSEHOLD_COLUMNS])
    members.append([header for _field, header in MEMBER_COLUMNS])
    for serial, family in enumerate(_example_people(), 1):
        head = {**family["head"], "serial": serial, "household_size": 1 + len(family["members"]),
                "status": "在档", "ethnicity": "汉族", "medical_insurance": "职工医保", "able_to_work": "是"}
        households.append([head.get(field, "") for field, _header in HOUSEHOLD_COLUMNS])
        for member in family["members"]:
            member = {**member, "head_id_number": head["id_number"]}
            members.append([member.get(field, "") for field, _header in MEMBER_COLUMNS])
    for sheet in (households, members):
        for column in sheet.columns:
            for cell in column:
                cell.number_format = "@"  # text: Excel would turn ID numbers into 15-digit floats
            sheet.column_dimensions[column[0].column_letter].width = max(10, 2.2 * len(str(column[0].value)))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- the pages ------------------------------------------------------------------------------------------------

def admin_page(view):
    """Signed in, with admin access (else 403), never cached; rendered inside the admin's layout."""

    @wraps(view)
    @login_required(login_url=reverse_lazy("admin:login"))
    @never_cache
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.has_perm("hardship.use_admin_site"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _render(request: HttpRequest, template: str, title: str, context: dict) -> HttpResponse:
    context = {**admin.site.each_context(request), "model_admin": admin.site.get_model_admin(ImportBatch),
               "title": title, **context}
    return render(request, f"admin/dossiers/importbatch/{template}", context)


def _batch(request: HttpRequest, pk: int, queryset=None) -> ImportBatch:
    """The batch in the user's scope (else 404), if they may view imports (else 403)."""
    queryset = queryset if queryset is not None else ImportBatch.objects.select_related("union", "uploaded_by")
    batch = get_visible_or_404(queryset, request.user, pk=pk)
    if not request.user.has_perm("dossiers.view_importbatch", batch):
        raise PermissionDenied
    return batch


def batch_url(batch: ImportBatch) -> str:
    return reverse("admin:dossiers_importbatch_batch", args=[batch.pk])


@admin_page
def upload_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("dossiers.import_household"):
        raise PermissionDenied
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        union = form.cleaned_data["union"]
        if not request.user.has_perm("dossiers.import_household", union):
            raise PermissionDenied
        batch = receive_upload(form.cleaned_data["file"], union=union, mode=form.cleaned_data["mode"],
                               user=request.user)
        if batch.state == State.UNREADABLE:
            form.add_error("file", batch.preview["error"])
        elif batch.state == State.FAILED and batch.report.get("failure") == "permission":
            form.add_error("union", batch.report["error"])
        else:
            return redirect(batch_url(batch))
    return _render(request, "upload.html", _("导入历史档案"), {"form": form, "notes": UPLOAD_NOTES})


@admin_page
def batch_view(request: HttpRequest, pk: int) -> HttpResponse:
    # The page never needs the rejected rows' cells (they are for the download): left in the database.
    shown = Func(F("report"), template="(%(expressions)s - 'rejected_rows')", output_field=JSONField())
    queryset = ImportBatch.objects.select_related("union", "uploaded_by").defer("report").annotate(shown=shown)
    batch = _batch(request, pk, queryset)
    step = stage(batch)
    result = batch.shown if step == "finished" else batch.preview
    context = {
        "batch": batch, "stage": step, "result": result, "progress": task_progress(batch),
        "state_type": STATE_TYPES.get(batch.state),
        "can_import": request.user.has_perm("dossiers.import_household", batch.union),
        "can_open_files": request.user.has_perm("dossiers.view_household", batch.union),
        "can_restart": step == "finished" and can_restart(batch, result or {}),
        "rejected_gone": rejected_rows_gone_message(batch)
        if step == "finished" and tasks.rejected_rows_gone(batch, result or {}) else "",
        "mode_help": MODE_HELP.get(batch.mode, ""),
        "imported_before": ImportBatch.objects.visible_to(request.user).filter(
            sha256=batch.sha256, state=State.DONE).exclude(pk=batch.pk).select_related("uploaded_by").first(),
        "columns": admin_mapping.columns_for_page(result or {}),
        "unread_columns": sum(1 for column in (result or {}).get("columns") or [] if not column["field"]),
        "unreadable": admin_mapping.values_for_page(result or {}),
        "field_options": admin_mapping.field_options(),
        "saved_mapping": admin_mapping.saved_mapping(batch.union) if batch.mapping else None,
    }
    return _render(request, "batch.html", batch.file_name, context)


@admin_page
def progress_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk, ImportBatch.objects.select_related("union").defer("report"))
    step = stage(batch)
    if step not in ("previewing", "running"):
        return HttpResponse(headers={"HX-Refresh": "true"})  # the whole page, with the preview or the report
    return render(request, "admin/dossiers/importbatch/progress.html",
                  {"batch": batch, "stage": step, "progress": task_progress(batch)})


@admin_page
@require_POST
def confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk, ImportBatch.objects.select_related("union").defer("report", "preview"))
    if not request.user.has_perm("dossiers.import_household", batch.union):
        raise PermissionDenied
    started = confirm_batch(batch)
    if not started:
        messages.warning(request, _("这份文件已经确认过或已处理完，不会重复导入。"))
    elif ImportBatch.objects.filter(pk=batch.pk, state=State.PREVIEWED).exists():  # _queue_import put it back
        messages.error(request, _("后台任务服务暂时不可用，未能开始导入；请稍后再点“确认导入”。"))
        started = False
    _record_import(request, batch, started, gettext_noop("确认导入"))
    return redirect(batch_url(batch))


@admin_page
@require_POST
def restart_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk, ImportBatch.objects.select_related("union").defer("report", "preview"))
    if not request.user.has_perm("dossiers.import_household", batch.union):
        raise PermissionDenied
    started = restart_batch(batch)
    if not started:
        messages.warning(request, _("这份文件不是中断的导入，或已重新导入、上传的文件已删除，不能再重新导入。"))
    elif ImportBatch.objects.filter(pk=batch.pk, state=State.PREVIEWED).exists():  # _queue_import put it back
        messages.error(request, _("后台任务服务暂时不可用，未能开始导入；请稍后再点“确认导入”。"))
        started = False
    _record_import(request, batch, started, gettext_noop("重新导入"))
    return redirect(batch_url(batch))


def _record_import(request: HttpRequest, batch: ImportBatch, started: bool, step: str) -> None:
    """The import asked for, and whether it was queued (what it then did is on the batch: the trail shows both)."""
    with translation.override("zh-hans"):  # the trail reads the same in both UI languages
        subject = f"{ImportBatch._meta.verbose_name}：{batch.file_name}（{_(step)}）"
    audit.record(request, AccessRecord.Action.IMPORT, subject, union=batch.union, succeeded=started)


def rejected_rows_gone_message(batch: ImportBatch) -> str:
    expiry = tasks.rejected_rows_expiry(batch)
    return _("有误的行已于 %(when)s 删除（保留 %(hours)d 小时）；请重新上传原文件预览") % {
        "when": timezone.localtime(expiry).strftime("%Y-%m-%d %H:%M") if expiry else "", "hours": tasks.KEPT_HOURS}


@admin_page
def rejected_download(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    rows = (batch.report or {}).get("rejected_rows") or []
    if not rows:
        raise Http404
    if tasks.rejected_rows_gone(batch, batch.report):  # ID numbers and bank cards: kept tasks.KEPT_HOURS only
        messages.warning(request, rejected_rows_gone_message(batch))
        return redirect(batch_url(batch))
    audit.record(request, AccessRecord.Action.EXPORT,
                 f"{ImportBatch._meta.verbose_name}：{batch.file_name} 有误的行 × {len(rows)}", union=batch.union)
    name = f"{PureWindowsPath(batch.file_name).stem}_{gettext('有误的行')}.xlsx"
    response = HttpResponse(rejected_rows_xlsx(rows), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
    return response


@admin_page
def example_download(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("dossiers.view_importbatch"):
        raise PermissionDenied
    response = HttpResponse(example_workbook(), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote('历史档案导入示例.xlsx')}"
    return response


# --- the list of past imports ---------------------------------------------------------------------------------

def _counts(field: str) -> JSONObject:
    return JSONObject(**{key: KT(f"{field}__{key}") for key in COUNT_KEYS})


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ["file_link", "union", "uploaded_by", "created_at", "state_label", "counts"]
    list_display_links = None
    list_filter = ["state", "mode"]
    search_fields = ["file_name"]
    list_select_related = ["union", "uploaded_by"]
    list_before_template = "admin/dossiers/importbatch/list_before.html"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("preview", "report").annotate(
            report_counts=_counts("report"), preview_counts=_counts("preview"))

    def get_urls(self):
        return [
            path("upload/", upload_view, name="dossiers_importbatch_upload"),
            path("example.xlsx", example_download, name="dossiers_importbatch_example"),
            path("<int:pk>/batch/", batch_view, name="dossiers_importbatch_batch"),
            path("<int:pk>/progress/", progress_view, name="dossiers_importbatch_progress"),
            path("<int:pk>/confirm/", confirm_view, name="dossiers_importbatch_confirm"),
            path("<int:pk>/restart/", restart_view, name="dossiers_importbatch_restart"),
            path("<int:pk>/mapping/", admin_page(admin_mapping.mapping_view), name="dossiers_importbatch_mapping"),
            path("<int:pk>/rejected.xlsx", rejected_download, name="dossiers_importbatch_rejected"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}),
                         "can_import": request.user.has_perm("dossiers.import_household")}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return redirect("admin:dossiers_importbatch_batch", object_id)  # the batch page checks scope

    @display(description=_("文件名"), ordering="file_name")
    def file_link(self, batch: ImportBatch) -> str:
        return format_html('<a href="{}" class="text-primary-600 dark:text-primary-500">{}</a>',
                           batch_url(batch), batch.file_name)

    @display(description=_("状态"), ordering="state", label=STATE_TYPES)
    def state_label(self, batch: ImportBatch) -> tuple[str, str]:
        return batch.state, batch.get_state_display()

    @display(description=_("结果"))
    def counts(self, batch: ImportBatch) -> str:
        text = gettext("新建 %(households_created)s · 更新 %(households_updated)s · 无变化 %(households_unchanged)s · "
                 "有误 %(rejected_rows_total)s")
        if batch.report_counts.get("households_created") is not None:
            return text % batch.report_counts
        if batch.preview_counts.get("households_created") is not None:
            return gettext("预览：") + text % batch.preview_counts
        return "—"
