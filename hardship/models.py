"""The shared core: administrative regions, the union tree and users with a role and a home union."""

from __future__ import annotations

import pghistory
import pgtrigger
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hardship.access import ScopedQuerySet

PATH_SEPARATOR = "/"


class Region(models.Model):
    """An administrative division (GB/T 2260 code), loaded from hardship/data/regions.csv."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("省级")
        PREFECTURE = "prefecture", _("地级")
        COUNTY = "county", _("县级")

    code = models.CharField(_("区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("级别"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级区划"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = pgettext_lazy("plural", "行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class UnionQuerySet(ScopedQuerySet):
    scope_path_lookup = "path"

    def subtree_of(self, union: Union) -> UnionQuerySet:
        return self.filter(path__startswith=union.path)


@pghistory.track()
class Union(models.Model):
    """A unit of the union tree: 全国总工会 → 省 → 市 → 县(区) → 基层工会 / 帮扶中心 / 帮扶站点.

    `path` is a materialised path of unit codes ("/000000/410000/410100/"), so a whole subtree is
    one indexed prefix match. The "C" collation lets the unique index on `path` serve both
    LIKE 'prefix%' (as a range) and ORDER BY path, so a subtree's first page reads only that page.
    """

    class Kind(models.TextChoices):
        NATIONAL = "national", _("全国总工会")
        PROVINCE = "province", _("省级总工会")
        CITY = "city", _("市级总工会")
        COUNTY = "county", _("县(区)级总工会")
        GRASSROOTS = "grassroots", _("基层工会")
        HELP_CENTRE = "help_centre", _("帮扶中心")
        HELP_STATION = "help_station", _("帮扶站点")

    code = models.CharField(
        _("单位代码"), max_length=32, unique=True,
        help_text=_("地方总工会用行政区划代码；基层单位在其后加序号，如 410102-J01。"),
    )
    name = models.CharField(_("名称"), max_length=128)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("行政区划"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="unions",
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("上级单位"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("路径"), max_length=512, unique=True, editable=False, db_collation="C")
    depth = models.PositiveSmallIntegerField(_("层级"), editable=False, default=0)
    contact_person = models.CharField(_("联系人"), max_length=64, blank=True,
                                      help_text=_("其他单位查到本单位的档案时，请他们联系的人。"))
    contact_phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = UnionQuerySet.as_manager()

    class Meta:
        verbose_name = _("工会单位")
        verbose_name_plural = pgettext_lazy("plural", "工会单位")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        old_path = self.path
        self.path = self.compute_path()
        self.depth = self.path.count(PATH_SEPARATOR) - 2
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            self._move_descendants(old_path)

    def clean(self) -> None:
        if PATH_SEPARATOR in self.code:
            raise ValidationError({"code": _("单位代码不能包含“/”。")})
        if self.kind == self.Kind.NATIONAL and self.parent_id:
            raise ValidationError({"parent": _("全国总工会没有上级单位。")})
        if self.kind != self.Kind.NATIONAL and not self.parent_id:
            raise ValidationError({"parent": _("请选择上级单位。")})
        if self.pk and self.parent_id and self.parent.path.startswith(self.path):
            raise ValidationError({"parent": _("上级单位不能是本单位或其下级单位。")})

    def compute_path(self) -> str:
        prefix = self.parent.path if self.parent_id else PATH_SEPARATOR
        return f"{prefix}{self.code}{PATH_SEPARATOR}"

    def _move_descendants(self, old_path: str) -> None:
        """Rewrite the paths under a moved or renamed unit in one statement."""
        from django.db.models import Value
        from django.db.models.functions import Concat, Substr

        Union.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
            path=Concat(Value(self.path), Substr("path", len(old_path) + 1)),
        )

    def ancestors(self) -> UnionQuerySet:
        codes = [code for code in self.path.split(PATH_SEPARATOR) if code][:-1]
        return Union.objects.filter(code__in=codes).order_by("depth")

    def is_within(self, other: Union) -> bool:
        return self.path.startswith(other.path)


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("帮扶工作人员")
    SUPERVISOR = "supervisor", _("上级工会负责人")
    ADMIN = "admin", _("系统管理员")
    SECURITY = "security", _("安全管理员")
    AUDITOR = "auditor", _("审计")


# 三员分立: the system administrator and the security administrator run the system and never read the files.
ROLES_WITHOUT_FILES = (Role.ADMIN, Role.SECURITY)


class UserQuerySet(ScopedQuerySet):
    scope_path_lookup = "home_union__path"


class HardshipUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


def _relabelled(field_name: str, verbose_name) -> models.Field:
    """One of AbstractUser's fields, unchanged but for its label."""
    _name, _path, args, kwargs = AbstractUser._meta.get_field(field_name).deconstruct()
    return AbstractUser._meta.get_field(field_name).__class__(*args, **{**kwargs, "verbose_name": verbose_name})


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["password", "last_login"],
)
class User(AbstractUser):
    """A person who signs in: a role and a home union, whose subtree is all they may see."""

    username = _relabelled("username", _("用户名"))
    password = _relabelled("password", _("密码"))
    email = _relabelled("email", _("电子邮箱"))
    is_staff = _relabelled("is_staff", _("可进入管理后台"))
    is_superuser = _relabelled("is_superuser", _("超级用户"))
    is_active = _relabelled("is_active", _("启用"))
    date_joined = _relabelled("date_joined", _("创建时间"))
    last_login = _relabelled("last_login", _("上次登录"))
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.CASEWORKER)
    home_union = models.ForeignKey(
        Union, verbose_name=_("所属单位"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="users",
    )
    full_name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True, editable=False)
    # A role or unit asked for by an administrator: it takes effect when a security administrator (not the same
    # person) approves it (三员分立). Until then the account keeps its present role and unit.
    pending_role = models.CharField(_("待批准的角色"), max_length=16, choices=Role.choices, blank=True, editable=False)
    pending_home_union = models.ForeignKey(
        Union, verbose_name=_("待批准的所属单位"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", editable=False,
    )
    pending_requested_by = models.ForeignKey(
        "self", verbose_name=_("申请人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        editable=False,
    )

    objects = HardshipUserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = pgettext_lazy("plural", "用户")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_superuser=True) | models.Q(home_union__isnull=False),
                name="user_has_home_union_unless_superuser",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    def clean(self) -> None:
        super().clean()
        if not self.is_superuser and not self.home_union_id:
            raise ValidationError({"home_union": _("请选择所属单位。")})

    def save(self, *args, **kwargs) -> None:
        # Admin-site access follows the role; it is never granted on its own.
        self.is_staff = self.is_superuser or self.role in (Role.ADMIN, Role.SECURITY, Role.AUDITOR)
        super().save(*args, **kwargs)

    @property
    def scope_union(self) -> Union | None:
        return self.home_union


class Heartbeat(models.Model):
    """When the Celery beat/worker pair last ran a job: the admin home shows it."""

    name = models.CharField(_("名称"), max_length=64, primary_key=True)
    last_seen = models.DateTimeField(_("最近运行"), default=timezone.now)
    worker = models.CharField(_("运行进程"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("后台任务心跳")
        verbose_name_plural = pgettext_lazy("plural", "后台任务心跳")

    def __str__(self) -> str:
        return f"{self.name} {self.last_seen:%Y-%m-%d %H:%M}"


class AccessRecordQuerySet(ScopedQuerySet):
    scope_path_lookup = "union__path"


class AccessRecord(models.Model):
    """What the audit must see besides the changes: sign-ins, refusals, files opened, exports, reveals, imports.

    Append-only: the database refuses to update or delete a row (only the retention job removes rows older than
    AUDIT_RETENTION_DAYS, inside pgtrigger.ignore)."""

    class Action(models.TextChoices):
        EXPORT = "export", _("导出")
        REVEAL = "reveal", _("查看完整身份证号")
        LOGIN = "login", _("登录")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOGOUT = "logout", _("退出登录")
        DENIED = "denied", _("拒绝访问")
        VIEW = "view", _("查看档案")
        IMPORT = "import", _("导入")
        RESET_2FA = "reset_2fa", _("重置两步验证")

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    user = models.ForeignKey(User, verbose_name=_("用户"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="access_records")
    username = models.CharField(_("登录名"), max_length=150, blank=True)  # as typed, for a failed sign-in
    action = models.CharField(_("操作"), max_length=16, choices=Action.choices)
    subject = models.CharField(_("对象"), max_length=300)
    union = models.ForeignKey(
        Union, verbose_name=_("所属单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    succeeded = models.BooleanField(_("结果"), default=True)

    objects = AccessRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("访问记录")
        verbose_name_plural = pgettext_lazy("plural", "访问记录")
        ordering = ["-at"]
        triggers = [
            pgtrigger.Protect(name="access_record_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_action_display()} {self.subject}"

    @property
    def scope_union(self) -> Union | None:
        return self.union


# Deletions too: a removed holiday changes every notice counted across it.
@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class CalendarDay(models.Model):
    """A day of China's national working calendar entered by an administrator (hardship/workdays.py).

    It wins over the chinese-calendar package: a holiday or make-up working day (调休) of a year the
    package does not cover yet, or a correction. A year with at least one entered day counts as
    covered, with every other day of it following the week (Monday–Friday work).
    """

    day = models.DateField(_("日期"), unique=True)
    is_working_day = models.BooleanField(
        _("上班"), default=False,
        help_text=_("勾选：这一天上班（如调休上班的周末）；不勾选：这一天放假。"),
    )
    name = models.CharField(_("名称"), max_length=64, help_text=_("如“春节”“春节调休上班”。"))
    note = models.CharField(
        _("备注"), max_length=200, blank=True, help_text=_("依据文件或更正原因，如国务院办公厅的放假安排通知。"),
    )

    class Meta:
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")
        ordering = ["day"]

    def __str__(self) -> str:
        kind = _("上班") if self.is_working_day else _("放假")
        return f"{self.day:%Y-%m-%d} {self.name}（{kind}）"
