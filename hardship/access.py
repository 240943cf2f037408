"""Who may see and change what.

Two layers, used by every view, the admin and every export:
- scope: a user sees only what lies in their home union's subtree (`visible_to(user)` on each
  model family's queryset, all built on `scope_path`); out of scope is a 404;
- role: what a user may do there, as `rules` permissions (hardship/rules.py).

The household files themselves (FileQuerySet) are not visible at all to the system and security
administrators (三员分立): they run accounts and reference data, never read the files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404

if TYPE_CHECKING:
    from hardship.models import Union


def scope_path(user) -> str | None:
    """The materialised-path prefix of the user's scope: "" for everything, None for nothing."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.home_union_id is None:
        return "" if user.is_superuser else None
    return user.home_union.path


def scope_union(obj) -> Union | None:
    """The union an object belongs to, for scope checks: each scoped model says which."""
    from hardship.models import Union

    if isinstance(obj, Union):
        return obj
    return getattr(obj, "scope_union", None)


def is_in_scope(user, obj) -> bool:
    path = scope_path(user)
    if path is None:
        return False
    if path == "":
        return True
    union = scope_union(obj)
    return union is not None and union.path.startswith(path)


def get_visible_or_404[M: Model](queryset: QuerySet[M], user, **lookup) -> M:
    """Fetch one object through the user's scope; anything outside it is simply not found."""
    return get_object_or_404(queryset.visible_to(user), **lookup)


class ScopedQuerySet(QuerySet):
    """Rows that belong to a union; `scope_path_lookup` leads from a row to that union's path."""

    scope_path_lookup = "union__path"

    def visible_to(self, user) -> ScopedQuerySet:
        """What the user may see: one indexed prefix condition on the union path."""
        path = scope_path(user)
        if path is None:
            return self.none()
        return self.filter(**{f"{self.scope_path_lookup}__startswith": path}) if path else self


def reads_files(user) -> bool:
    from hardship.models import ROLES_WITHOUT_FILES

    return user.is_superuser or getattr(user, "role", None) not in ROLES_WITHOUT_FILES


class FileQuerySet(ScopedQuerySet):
    """The household files and what is part of them (members, assessments, register events)."""

    def visible_to(self, user) -> ScopedQuerySet:
        return super().visible_to(user) if reads_files(user) else self.none()


REGION_PREFIX = {"province": 2, "prefecture": 4, "county": 6}


def regions_of(user):
    """The regions of the user's home union and below it (all of them for the national union), by GB/T 2260 code
    prefix: what an administrator may set reference data for, such as a 低保 standard."""
    from hardship.models import Region

    union = getattr(user, "home_union", None) if getattr(user, "is_authenticated", False) else None
    if user.is_superuser and union is None:
        return Region.objects.all()
    if union is None:
        return Region.objects.none()
    if union.region_id is None:  # the national union
        return Region.objects.all() if union.parent_id is None else Region.objects.none()
    region = union.region
    return Region.objects.filter(code__startswith=region.code[:REGION_PREFIX[region.level]])
