"""Each role lands on its own home page, with a bounded number of queries."""

import pytest
from django.urls import reverse

from hardship.models import Heartbeat

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("user_fixture", "heading"),
    [("caseworker", "我的工作"), ("supervisor", "工作台"), ("county_admin", "管理首页"), ("auditor", "审计首页")],
)
def test_it_shows_each_role_its_home_page(request, client_for, user_fixture, heading, django_assert_max_num_queries):
    user = request.getfixturevalue(user_fixture)
    client = client_for(user)
    # A caseworker's eleven queues cost one query each (two when one holds more than the five rows shown).
    with django_assert_max_num_queries(20):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert f"<h1>{heading}" in response.content.decode()


def test_it_shows_the_supervisor_the_units_below_with_their_sizes(client_for, supervisor, unions):
    response = client_for(supervisor).get(reverse("home"))
    children = {child.code: child for child in response.context["children"]}
    assert set(children) == {"410100"}
    assert children["410100"].descendant_count == 5  # two counties, two centres, one station
    assert dict(response.context["kind_counts"])["帮扶中心"] == 2


def test_it_shows_the_admin_whether_background_jobs_run(client_for, county_admin):
    client = client_for(county_admin)
    assert "尚未收到后台任务" in client.get(reverse("home")).content.decode()
    Heartbeat.objects.create(name="beat", worker="worker-1")
    assert "最近一次运行" in client.get(reverse("home")).content.decode()
