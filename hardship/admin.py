"""The admin site (django-unfold), scoped like every other view: a user sees and picks only
unions and users in their subtree, and permissions come from hardship/rules.py."""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.http import Http404, HttpRequest
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from hardship.access import regions_of
from hardship.models import AccessRecord, CalendarDay, Heartbeat, Region, Union, User
from hardship.roles import hold_for_approval
from hardship.security.sessions import end_sessions_action, reset_two_factor_action

admin.site.site_header = _("困难职工解困脱困 · 管理后台")
admin.site.site_title = _("困难职工帮扶管理")
admin.site.index_title = _("管理后台")

# Roles and hardship/rules.py decide permissions, not Django's groups; the login-lockout tables of django-axes are
# for the shell (`manage.py axes_reset_username`), untranslated and of no use to a union's administrator.
for model in (Group, AccessAttempt, AccessFailureLog, AccessLog):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


def sidebar_navigation(request: HttpRequest) -> list[dict]:
    """The admin sidebar (UNFOLD["SIDEBAR"]): the way back to the application, then what the user may open here."""
    back = {"title": _("返回工作台"), "icon": "arrow_back", "link": reverse("home"), "active": False}
    groups = [{"items": [back]}]
    for app in admin.site.get_app_list(request):
        items = [{"title": model["name"], "link": model["admin_url"]} for model in app["models"] if model["admin_url"]]
        groups.append({"title": app["name"], "items": items})
    return groups


def favicon_url(request: HttpRequest) -> str:
    return static("favicon.svg")


class ScopedAdmin(ModelAdmin):
    """Every queryset through visible_to(user); every permission through rules, with the object."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Union:
            kwargs["queryset"] = Union.objects.visible_to(request.user).order_by("path")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _perm(self, request, action: str, obj=None) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.{action}_{self.opts.model_name}", obj)

    def has_module_permission(self, request) -> bool:
        return request.user.has_perm("hardship.use_admin_site")

    def has_view_permission(self, request, obj=None) -> bool:
        return self._perm(request, "view", obj) or self._perm(request, "change", obj)

    def has_add_permission(self, request) -> bool:
        return self._perm(request, "add")

    def has_change_permission(self, request, obj=None) -> bool:
        return self._perm(request, "change", obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._perm(request, "delete", obj)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404  # out of scope is simply not found, as everywhere else


class ReadOnlyMixin:
    """Records written by the system itself (or reference data loaded from files): never edited here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Union)
class UnionAdmin(ScopedAdmin):
    list_display = ["name", "code", "kind", "region", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]
    list_select_related = ["region", "parent"]
    autocomplete_fields = ["region"]
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "parent", "region", "is_active"]}),
        (_("联系方式"), {
            "fields": ["contact_person", "contact_phone", "address"],
            "description": _("其他单位按身份证号查到本单位的档案时，系统请他们按这里的联系方式联系本单位。"),
        }),
    ]

    def get_readonly_fields(self, request, obj=None):
        # The code and the parent make the materialised path: fixed once the unit exists.
        return ["code", "parent"] if obj else []

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None and not request.user.is_superuser:
            form.base_fields["parent"].required = True  # a new unit lies inside the administrator's subtree
        return form


@admin.register(User)
class UserAdmin(ScopedAdmin, DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ["username", "full_name", "role", "home_union", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "full_name", "phone"]
    list_select_related = ["home_union"]
    ordering = ["home_union__path", "username"]
    actions = [end_sessions_action, reset_two_factor_action]

    def has_end_sessions_permission(self, request) -> bool:
        return request.user.has_perm("hardship.end_sessions")

    def has_reset_two_factor_permission(self, request) -> bool:
        return request.user.has_perm("hardship.reset_two_factor")
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("个人信息"), {"fields": ["full_name", "phone", "email"]}),
        (_("角色与单位"), {
            "fields": ["role", "home_union", "is_active"],
            "description": _("新建账号、变更角色或单位、重新启用账号，须由安全管理员批准后生效（三员分立）。"),
        }),
        (_("待批准的申请"), {"fields": ["pending_role", "pending_home_union", "pending_requested_by"]}),
        (_("登录记录"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {
            "fields": ["username", "full_name", "role", "home_union", "password1", "password2"],
            "description": _("新账号在安全管理员批准后才能登录（三员分立）。"),
        }),
    ]
    readonly_fields = ["last_login", "date_joined", "pending_role", "pending_home_union", "pending_requested_by"]

    def get_list_display(self, request):
        return [*self.list_display, "pending_role"]

    def save_model(self, request, obj, form, change):
        before = User.objects.get(pk=obj.pk) if change else None
        if not request.user.is_superuser and hold_for_approval(obj, by=request.user, before=before):
            messages.info(request, _("已提交申请：角色、所属单位和启用状态须由安全管理员批准后生效。"))
        super().save_model(request, obj, form, change)


@admin.register(Region)
class RegionAdmin(ReadOnlyMixin, ModelAdmin):
    """Reference data from hardship/data/regions.csv (load_regions)."""

    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]

    def has_module_permission(self, request) -> bool:
        return request.user.has_perm("hardship.use_admin_site")

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("hardship.view_region")

    def get_search_results(self, request, queryset, search_term):
        # The region picker of a 低保 standard offers only the administrator's own regions.
        if request.GET.get("model_name") == "localstandard":
            queryset = queryset & regions_of(request.user)
        return super().get_search_results(request, queryset, search_term)


@admin.register(AccessRecord)
class AccessRecordAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ["at", "user", "action", "subject", "union"]
    list_filter = ["action"]
    list_select_related = ["user", "union"]
    date_hierarchy = "at"

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("hardship.view_history", obj)


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["name", "last_seen", "worker"]

    def has_module_permission(self, request) -> bool:
        return request.user.has_perm("hardship.view_heartbeat")

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("hardship.view_heartbeat")


@admin.register(CalendarDay)
class CalendarDayAdmin(ModelAdmin):
    """The national working calendar (hardship/workdays.py): holidays and make-up working days of
    the years the chinese-calendar package does not cover yet, and corrections. Not union-scoped."""

    list_display = ["day", "name", "is_working_day", "note"]
    list_filter = ["is_working_day"]
    search_fields = ["name", "note"]
    date_hierarchy = "day"
    ordering = ["-day"]
    fields = ["day", "name", "is_working_day", "note"]

    def has_module_permission(self, request) -> bool:
        return request.user.has_perm("hardship.use_admin_site")

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("hardship.view_calendarday") or self.has_change_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm("hardship.add_calendarday")

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("hardship.change_calendarday")

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("hardship.delete_calendarday")
