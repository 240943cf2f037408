"""The union tree keeps its materialised paths right."""

import pytest
from django.core.exceptions import ValidationError

from hardship.models import Union
from tests.factories import UnionFactory

pytestmark = pytest.mark.django_db


def test_it_builds_paths_from_the_codes(unions):
    assert unions["410102-S01"].path == "/100000/410000/410100/410102/410102-C01/410102-S01/"
    assert unions["410102-S01"].depth == 5
    assert unions["100000"].depth == 0


def test_it_moves_a_whole_subtree_in_one_go(unions):
    centre = unions["410102-C01"]
    centre.parent = unions["410105"]
    centre.save()
    station = Union.objects.get(code="410102-S01")
    assert station.path == "/100000/410000/410100/410105/410102-C01/410102-S01/"
    assert station.is_within(unions["410105"])


def test_it_refuses_a_unit_below_itself(unions):
    county = unions["410102"]
    county.parent = unions["410102-S01"]
    with pytest.raises(ValidationError, match="上级单位不能是本单位或其下级单位"):
        county.full_clean()


def test_it_requires_a_parent_below_the_national_union(unions):
    with pytest.raises(ValidationError):
        Union(code="X1", name="无上级", kind=Union.Kind.GRASSROOTS).full_clean()
    with pytest.raises(ValidationError):
        UnionFactory.build(code="a/b", parent=unions["410102"]).full_clean()


def test_it_lists_ancestors_in_order(unions):
    assert [u.code for u in unions["410102-S01"].ancestors()] == ["100000", "410000", "410100", "410102", "410102-C01"]


def test_it_keeps_codes_unique(unions):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Union.objects.create(code="410102", name="重复", kind=Union.Kind.COUNTY, parent=unions["410100"])
