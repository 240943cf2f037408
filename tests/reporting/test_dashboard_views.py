"""The dashboard pages: who sees what (scope by subtree, 404 outside it, through the page, the chart data, the
export and the printable page), the figures they show, the targets and their arithmetic, query counts."""

import datetime
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dossiers.choices import Category, Status
from hardship.models import AccessRecord, Role
from reporting.figures import figures_of
from reporting.models import ExitTarget
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


@pytest.fixture
def county_boss(unions):
    """A supervisor of 中原区: sees his county, not 金水区 next door."""
    return UserFactory(username="zhongyuan_boss", role=Role.SUPERVISOR, home_union=unions["410102"], full_name="郑强")


@pytest.fixture
def city_boss(unions):
    return UserFactory(username="city_boss", role=Role.SUPERVISOR, home_union=unions["410100"], full_name="赵建国")


@pytest.fixture
def files(make_household, walk, caseworker, outsider, unions):
    """Two on the register and one exited this year in 中原区; one on the register in 金水区."""
    centre = unions["410102-C01"]
    deep = walk(make_household(by=caseworker, union=centre), Status.REGISTERED)
    walk(make_household(by=caseworker, union=centre), Status.REGISTERED)
    walk(make_household(by=caseworker, union=centre), Status.EXITED)
    other = make_household(by=caseworker, union=centre)
    walk(other, Status.REGISTERED)
    from dossiers import register

    move = register.request_transfer(other, by=caseworker, to_union=unions["410105-C01"], reason="搬家")
    register.decide_transfer(move, by=outsider, accept=True)
    return deep


def urls(code):
    return {name: reverse(f"reporting:{name}", args=[code]) for name in ("dashboard", "data", "export", "print")}


@pytest.mark.parametrize("name", ["dashboard", "data", "export", "print"])
def test_a_county_supervisor_cannot_see_the_neighbouring_county(name, client_for, county_boss, unions, files):
    client = client_for(county_boss)
    assert client.get(urls("410102")[name]).status_code == 200
    for code in ("410105", "410105-C01", "410100", "410000", "100000", "nonexistent"):
        response = client.get(urls(code)[name])
        assert response.status_code == 404, code
        assert "金水" not in response.content.decode(errors="ignore")


@pytest.mark.parametrize("user_fixture", ["caseworker", "county_admin", "auditor", "security_admin"])
def test_other_roles_see_no_dashboard(request, client_for, user_fixture, files):
    client = client_for(request.getfixturevalue(user_fixture))
    for name, url in urls(request.getfixturevalue(user_fixture).home_union.code).items():
        assert client.get(url).status_code == 403, name
    assert client.get(reverse("reporting:dashboard")).status_code == 403
    assert client.get(reverse("reporting:targets")).status_code == 403


def test_signed_out_goes_to_the_login(client, files):
    response = client.get(urls("410102")["data"])
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_city_page_shows_its_figures_and_the_counties_worst_first(client_for, city_boss, unions, files,
                                                                      django_assert_max_num_queries):
    ExitTarget.objects.create(union=unions["410102"], year=YEAR, households=4, set_by=city_boss)
    ExitTarget.objects.create(union=unions["410105"], year=YEAR, households=1, set_by=city_boss)
    client = client_for(city_boss)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("reporting:dashboard"))
    board = response.context["board"]
    assert board.figures.on_register == 3 and board.figures.exited_this_year == 1
    assert [(c.union.code, c.on_register, c.exited_this_year, c.progress) for c in board.children] == [
        ("410105", 1, 0, 0), ("410102", 2, 1, 25)]  # 0 % of 1 before 25 % of 4
    page = response.content.decode()
    assert reverse("reporting:dashboard", args=["410102"]) in page  # each row one level down
    response = client.get(reverse("reporting:dashboard"), {"sort": "-on_register"})
    assert [c.union.code for c in response.context["board"].children] == ["410102", "410105"]
    page = response.content.decode()  # the sorted column says so, and a click on it sorts it the other way
    assert '<th scope="col" class="number" aria-sort="descending"><a href="?sort=on_register">' in page
    assert page.count("aria-sort=") == 1 and 'href="?sort=-exited_this_year"' not in page
    hostile = client.get(reverse("reporting:dashboard"), {"sort": "union__path; DROP", "year": "abc"})
    assert hostile.status_code == 200 and hostile.context["board"].year == YEAR


def test_drilling_down_shows_breadcrumbs_within_the_users_scope(client_for, city_boss, files):
    response = client_for(city_boss).get(urls("410102-C01")["dashboard"])
    crumbs = [u.code for u in response.context["ancestors"]]
    assert crumbs == ["410100", "410102"]  # not the province and nation above the city supervisor


def test_the_chart_data_equals_the_tables_and_holds_only_counts(client_for, city_boss, unions, files):
    client = client_for(city_boss)
    data = json.loads(client.get(urls("410100")["data"]).content)
    kept = figures_of([unions["410100"]], timezone.localdate())[unions["410100"].pk]
    assert [c["value"] for c in data["categories"]] == [n for _v, _l, n in kept.by_category]
    assert sum(c["value"] for c in data["categories"]) == 3
    assert data["progress"]["exited"] == 1
    assert {r["name"] for r in data["ranking"]} == {"中原区总工会", "金水区总工会"}
    text = json.dumps(data, ensure_ascii=False)
    household = files
    for personal in (household.head_name, household.file_number, household.address):
        assert personal not in text


def test_the_export_carries_scope_date_and_the_child_table_and_is_recorded(client_for, city_boss, files):
    client = client_for(city_boss)
    response = client.get(urls("410100")["export"], {"year": YEAR})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["概况", "下级单位"]
    summary = [tuple(c for c in row if c is not None) for row in book["概况"].iter_rows(values_only=True)]
    assert summary[0] == ("统计范围", "郑州市总工会") and summary[1][0] == "统计日期"
    assert ("在档户数", 3) in summary
    children = list(book["下级单位"].iter_rows(values_only=True))[4:]
    assert children[0][0] == "单位"
    assert {row[0]: row[1] for row in children[1:]} == {"中原区总工会": 2, "金水区总工会": 1}
    assert AccessRecord.objects.filter(user=city_boss, action=AccessRecord.Action.EXPORT).exists()
    household = files
    cells = " ".join(str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert household.head_name not in cells and household.file_number not in cells


def test_the_printable_page_names_scope_and_date(client_for, city_boss, files):
    page = client_for(city_boss).get(urls("410100")["print"]).content.decode()
    assert "统计范围：郑州市总工会" in page and f"{timezone.localdate():%Y}年" in page
    assert "中原区总工会" in page


def test_a_supervisor_sets_targets_for_his_union_and_its_children_only(client_for, city_boss, unions, files):
    client = client_for(city_boss)
    url = reverse("reporting:targets")
    page = client.get(url)
    assert [u.code for u, _f, _g in page.context["rows"]] == ["410100", "410102", "410105"]
    year = page.context["year"]
    assert year == YEAR + 1  # next year by default
    own, a, b = (f"u{unions[c].pk}" for c in ("410100", "410102", "410105"))
    response = client.post(url, {"year": year, own: "10", a: "6", b: "3"})
    assert response.status_code == 302
    assert dict(ExitTarget.objects.filter(year=year).values_list("union__code", "households")) == {
        "410100": 10, "410102": 6, "410105": 3}
    board = client.get(reverse("reporting:dashboard"), {"year": year}).context["board"]
    assert (board.figures.target, board.figures.children_target, board.figures.children_gap) == (10, 9, -1)
    assert "下级单位目标合计 9 户，与本级目标 10 户不一致" in client.get(
        reverse("reporting:dashboard"), {"year": year}).content.decode()
    # A blank removes a target; a second identical post changes nothing
    client.post(url, {"year": year, own: "10", a: "6", b: ""})
    assert not ExitTarget.objects.filter(union=unions["410105"], year=year).exists()
    assert client.post(url, {"year": year, own: "10", a: "6", b: ""}).status_code == 302
    assert ExitTarget.objects.filter(year=year).count() == 2


@pytest.mark.parametrize("value", ["-1", "abc", "10000001", "1.5", "1e3"])
def test_a_wrong_target_is_refused_and_nothing_is_written(value, client_for, city_boss, unions):
    client = client_for(city_boss)
    response = client.post(reverse("reporting:targets"), {"year": YEAR + 1, f"u{unions['410100'].pk}": value,
                                                         f"u{unions['410102'].pk}": "5"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not ExitTarget.objects.exists()


def test_a_target_for_a_grandchild_cannot_be_posted(client_for, city_boss, unions):
    """Fields exist only for the supervisor's union and its children: a forged field for a help centre is ignored."""
    client = client_for(city_boss)
    client.post(reverse("reporting:targets"), {"year": YEAR + 1, f"u{unions['410102-C01'].pk}": "5",
                                               f"u{unions['420000'].pk}": "5"})
    assert not ExitTarget.objects.exists()


def test_the_bottom_up_plan_against_the_target(make_household, walk, caseworker, county_boss, unions):
    from assistance import plans
    from assistance.models import Measure, MeasureType, Plan

    kind = MeasureType.objects.filter(batch="employment", involves_money=False).first()
    for _ in range(2):
        household = walk(make_household(by=caseworker, union=unions["410102-C01"]), Status.REGISTERED)
        plans.create_plan(household, Plan(goal="就业", target_year=YEAR, deadline=datetime.date(YEAR, 12, 31),
                                          responsible="王芳"),
                          [Measure(measure_type=kind, description="推荐", responsible="王芳",
                                   due_on=datetime.date(YEAR, 12, 31))], by=caseworker)
    ExitTarget.objects.create(union=unions["410102"], year=YEAR, households=5, set_by=county_boss)
    kept = figures_of([unions["410102"]], timezone.localdate())[unions["410102"].pk]
    assert (kept.planned_this_year, kept.target, kept.plan_shortfall) == (2, 5, 3)
    assert kept.count("category", Category.DEEP) + kept.count("category", Category.RELATIVE) + kept.count(
        "category", Category.ACCIDENT) == kept.on_register == 2


def test_a_child_units_name_is_escaped_in_the_table(client_for, city_boss, unions, files):
    unions["410105"].__class__.objects.filter(pk=unions["410105"].pk).update(name='金水区<script>alert("x")</script>')
    page = client_for(city_boss).get(reverse("reporting:dashboard")).content.decode()
    assert "<script>alert" not in page and "金水区&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
