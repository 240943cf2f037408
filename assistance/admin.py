from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from assistance.models import CauseSuggestion, MeasureType


class ReferenceDataAdmin(ModelAdmin):
    """Kept by national administrators (assistance/rules.py); not union-scoped."""

    def has_module_permission(self, request) -> bool:
        return request.user.has_perm("hardship.use_admin_site")

    def _allowed(self, request, action: str) -> bool:
        return request.user.has_perm(f"assistance.{action}_{self.model._meta.model_name}")

    def has_view_permission(self, request, obj=None) -> bool:
        return self._allowed(request, "view") and request.user.has_perm("hardship.use_admin_site")

    def has_add_permission(self, request) -> bool:
        return self._allowed(request, "add")

    def has_change_permission(self, request, obj=None) -> bool:
        return self._allowed(request, "change")

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._allowed(request, "delete")


class SuggestionInline(TabularInline):
    model = CauseSuggestion
    fields = ["cause", "position"]
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("assistance.add_causesuggestion")

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("assistance.change_causesuggestion")

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("assistance.delete_causesuggestion")


@admin.register(MeasureType)
class MeasureTypeAdmin(ReferenceDataAdmin):
    list_display = ["name", "name_en", "batch", "involves_money", "active", "position"]
    list_filter = ["batch", "active", "involves_money"]
    search_fields = ["name", "name_en", "code"]
    ordering = ["batch", "position"]
    fields = ["code", "batch", "name", "name_en", "description", "involves_money", "active", "position"]
    inlines = [SuggestionInline]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj else []  # measures and the suggestions refer to it


@admin.register(CauseSuggestion)
class CauseSuggestionAdmin(ReferenceDataAdmin):
    list_display = ["cause", "measure_type", "position"]
    list_filter = ["cause", "measure_type__batch"]
    ordering = ["cause", "position"]
    fields = ["cause", "measure_type", "position"]
