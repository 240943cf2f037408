"""Reference data of the household file in the admin: the local 低保 standards by period, added (never edited) by
an administrator for their own region or one below it."""

from django.contrib import admin
from unfold.admin import ModelAdmin

from dossiers.legacy import admin as _legacy_admin  # noqa: F401
from dossiers.models import LocalStandard
from hardship.access import regions_of


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

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":  # only the administrator's own region and those below it
            kwargs["queryset"] = regions_of(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # assessments refer to the standard they used
