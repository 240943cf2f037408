"""The union page keeps a constant number of queries however many units lie below."""

import pytest
from django.urls import reverse

from hardship.models import Union
from tests.factories import UnionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_keeps_the_union_page_queries_constant(client_for, supervisor, unions):
    client = client_for(supervisor)
    url = reverse("union_detail", args=["410100"])
    client.get(url)
    before = _count_queries(client, url)
    for n in range(20):
        county = UnionFactory(code=f"4101{n:02d}-X", kind=Union.Kind.COUNTY, parent=unions["410100"])
        UserFactory(username=f"u{n}", home_union=county)
    assert _count_queries(client, url) == before <= 10


def _count_queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured)
