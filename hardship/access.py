"""Who may see and change what.

Two layers, used by every view, the admin and every export:
- scope: a user sees only what lies in their home union's subtree (`visible_to(user)` on each
  model family's queryset, all built on `scope_path`); out of scope is a 404;
- role: what a user may do there, as `rules` permissions (hardship/rules.py).
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
