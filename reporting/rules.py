"""Who sees the dashboards and sets the targets: supervisors, for their own subtree (counts only, no personal data);
a target is set for the supervisor's own union and the unions directly under it."""

import rules

from hardship.rules import in_scope, is_supervisor


@rules.predicate
def own_or_child_union(user, union=None) -> bool:
    return union is None or (user.home_union_id is not None and user.home_union_id in (union.pk, union.parent_id))


rules.add_perm("reporting.view_dashboard", is_supervisor & in_scope)
rules.add_perm("reporting.change_exittarget", is_supervisor & own_or_child_union)
