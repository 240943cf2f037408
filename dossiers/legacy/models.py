"""Records of legacy imports and of civil-affairs (民政) 低保 rosters matched against the files."""

from __future__ import annotations

from decimal import Decimal

import pghistory
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hardship.access import ScopedQuerySet
from hardship.fields import IdDigestField, IdNumberField
from hardship.models import Union


class ImportBatchQuerySet(ScopedQuerySet):
    scope_path_lookup = "union__path"


class ImportBatch(models.Model):
    """One upload of a legacy register: its preview, the import run and its report.

    The uploaded file is kept only until the import has run (it holds ID numbers and bank cards), or for a day
    after an interrupted one, to run it again; the report keeps the rejected rows' cells for a day, so the admin
    can download them to fix, then only their sheet, row and reason, masked (dossiers.tasks.purge_stale_uploads).
    The preview and the report's summary never hold a full ID or bank-card number (dossiers.tasks.summary).
    While QUEUED or RUNNING the report holds only when that began ({"queued_at"} / {"started_at"}, ISO time).
    """

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", _("全部无误才导入")
        SKIP_INVALID = "skip_invalid", _("导入无误的户，跳过有误的行")

    class State(models.TextChoices):
        PREVIEWED = "previewed", _("已预览")
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")
        REFUSED = "refused", _("未导入（有误）")
        FAILED = "failed", _("失败")
        UNREADABLE = "unreadable", _("文件无法读取")

    union = models.ForeignKey(Union, verbose_name=_("建档单位"), on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("导入人"), on_delete=models.PROTECT,
                                    related_name="+")
    file_name = models.CharField(_("文件名"), max_length=255)
    file = models.FileField(_("文件"), upload_to="imports/%Y/%m/", blank=True)
    sha256 = models.CharField(_("文件摘要"), max_length=64)
    size = models.PositiveIntegerField(_("文件大小（字节）"))
    mode = models.CharField(_("导入方式"), max_length=16, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.PREVIEWED)
    task_id = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    preview = models.JSONField(_("预览结果"), default=dict, blank=True)
    report = models.JSONField(_("导入结果"), default=dict, blank=True)
    mapping = models.JSONField(_("列映射"), default=dict, blank=True)  # dossiers.legacy.mapping, as JSON
    language = models.CharField(_("语言"), max_length=16, blank=True)  # the uploader's: the reasons are written in it

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("历史档案导入")
        verbose_name_plural = _("历史档案导入")
        ordering = ["-created_at", "-pk"]
        permissions = [("import_household", _("导入历史档案"))]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.created_at:%Y-%m-%d %H:%M}）"

    @property
    def scope_union(self) -> Union:
        return self.union

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.REFUSED, self.State.FAILED, self.State.UNREADABLE)


class ImportMappingQuerySet(ScopedQuerySet):
    scope_path_lookup = "union__path"


@pghistory.track()
class ImportMapping(models.Model):
    """A union's mapping of its registers' wording (columns and values), saved from an import preview and applied
    to the union's next upload."""

    union = models.OneToOneField(Union, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    mapping = models.JSONField(_("列映射"), default=dict)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("保存人"), on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(_("保存时间"), default=timezone.now)

    objects = ImportMappingQuerySet.as_manager()

    class Meta:
        verbose_name = _("导入列映射")
        verbose_name_plural = _("导入列映射")

    def __str__(self) -> str:
        return f"{self.union}"

    @property
    def scope_union(self) -> Union:
        return self.union


class CivilRosterQuerySet(ScopedQuerySet):
    scope_path_lookup = "union__path"


class CivilRoster(models.Model):
    """A civil-affairs 低保 roster uploaded for matching (数据比对); it changes no file by itself."""

    union = models.ForeignKey(Union, verbose_name=_("比对范围"), on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    file_name = models.CharField(_("文件名"), max_length=255)
    total_rows = models.PositiveIntegerField(_("名册行数"), default=0)
    rejected = models.JSONField(_("无法读取的行"), default=list, blank=True)

    objects = CivilRosterQuerySet.as_manager()

    class Meta:
        verbose_name = _("民政低保名册")
        verbose_name_plural = _("民政低保名册")
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def scope_union(self) -> Union:
        return self.union


class CivilRosterEntryQuerySet(ScopedQuerySet):
    scope_path_lookup = "roster__union__path"


@pghistory.track()
class CivilRosterEntry(models.Model):
    """One person on the roster, with the household file it matched (by normalised ID number)."""

    roster = models.ForeignKey(CivilRoster, on_delete=models.CASCADE, related_name="entries")
    row = models.PositiveIntegerField(_("行号"))
    id_number = IdNumberField(_("身份证号"))
    id_number_digest = IdDigestField()
    name = models.CharField(_("姓名"), max_length=64)
    on_dibao = models.BooleanField(_("享受低保"))
    amount = models.DecimalField(_("低保金（元/月）"), max_digits=10, decimal_places=2, default=Decimal("0.00"))
    household = models.ForeignKey("dossiers.Household", verbose_name=_("匹配档案"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="civil_entries")
    member = models.ForeignKey("dossiers.Member", verbose_name=_("匹配成员"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    accepted_at = models.DateTimeField(_("采纳时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("采纳人"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    objects = CivilRosterEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("民政名册记录")
        verbose_name_plural = _("民政名册记录")
        ordering = ["roster", "row"]
        indexes = [models.Index(fields=["id_number_digest"], name="civil_entry_id_number_idx")]
        constraints = [
            models.UniqueConstraint(fields=["roster", "id_number_digest"], name="civil_entry_once_per_roster"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.roster}）"

    @property
    def scope_union(self) -> Union:
        return self.roster.union
