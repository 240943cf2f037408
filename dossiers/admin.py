"""Reference data of the household file in the admin: the local 低保 standards by period."""

from django.contrib import admin
from unfold.admin import ModelAdmin

from dossiers.legacy import admin as _legacy_admin  # noqa: F401
from dossiers.models import LocalStandard


@admin.register(LocalStandard)
class LocalStandardAdmin(ModelAdmin):
    list_display = ["region", "effective_from", "poverty_line", "min_wage", "source"]
    list_filter = ["region__level"]
    search_fields = ["region__name", "region__code"]
    autocomplete_fields = ["region"]
    list_select_related = ["region"]
    date_hierarchy = "effective_from"

    def has_module_permission(self, request) -> bool:
        return request.user.has_perm("hardship.use_admin_site")

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("dossiers.view_localstandard")

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm("dossiers.add_localstandard")

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("dossiers.change_localstandard")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # assessments refer to the standard they used
