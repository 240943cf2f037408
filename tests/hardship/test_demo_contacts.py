"""The demo's units carry the contacts other units are told to use (the ID look-up, the import's refusals)."""

import pytest

from hardship.demo import DEMO_CONTACTS, load_union_demo
from hardship.models import Union

pytestmark = pytest.mark.django_db


def test_it_fills_the_demo_units_contacts_and_keeps_what_an_admin_changed():
    load_union_demo()
    centre = Union.objects.get(code="410105-C01")
    assert (centre.contact_person, centre.contact_phone) == ("李强", "0371-65951234") and centre.address
    assert set(Union.objects.filter(code__in=DEMO_CONTACTS).exclude(contact_person="").exclude(contact_phone="")
               .values_list("code", flat=True)) == set(DEMO_CONTACTS)

    Union.objects.filter(code="410105-C01").update(contact_person="马丽", contact_phone="0371-65950000")
    load_union_demo()
    centre.refresh_from_db()
    assert (centre.contact_person, centre.contact_phone) == ("马丽", "0371-65950000")
