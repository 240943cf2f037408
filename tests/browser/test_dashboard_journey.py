"""The supervisor's dashboard in a real browser, under the Content-Security-Policy: the 河南 provincial supervisor opens
it, drills down 河南省总工会 → 郑州市总工会 → 中原区总工会 by the child table's links and back up by the breadcrumbs,
finds each chart showing its table's numbers, exports 郑州市's table to Excel (the same numbers as the page), sets next
year's exit targets for the province and its city and sees them, with the warning that the city's target does not
add up to the province's, on next year's dashboard. The pages are looked at 1280 px and 390 px wide; no console
error, failed request or policy violation on any of them."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dossiers import register
from dossiers.choices import Cause, Health, Relationship, Sex, Status, WorkStatus
from dossiers.models import ExitKind, Household
from reporting.models import ExitTarget
from tests.browser.conftest import screenshot
from tests.dossiers import conftest as dossier_fixtures
from tests.dossiers.conftest import exit_proposal, new_member, walk_to
from tests.factories import UserFactory

build_household, make_household, second_reviewer, walk = (
    dossier_fixtures.build_household, dossier_fixtures.make_household, dossier_fixtures.second_reviewer,
    dossier_fixtures.walk)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 860}
# A year's wages for the two default members: 250 and 1 000 yuan a head a month at the 800 line.
DEEP, RELATIVE = {"income_wages": Decimal("6000.00")}, {"income_wages": Decimal("24000.00")}
# 2 083 a head a month, above twice the line, but illness costs over 80 % of the income: 意外致困.
ACCIDENT = {"income_wages": Decimal("300000.00"), "cost_illness": Decimal("250000.00"), "accident": True}

# Every policy violation the page sees (the browser also logs them to the console, caught below).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`
                           + ` ${event.sample}`);
});
"""
CHART = """([name, axis]) => {
  const option = echarts.getInstanceByDom(document.querySelector(`[data-chart=${name}]`)).getOption();
  return {data: option.series[0].data, names: axis ? option[axis][0].data : null};
}"""
BREAKDOWN = """rows => rows.map(row => [row.querySelector("th").textContent.trim(),
                                     Number(row.querySelector("td[data-value]").dataset.value)])"""
CELLS = "rows => rows.map(row => [...row.cells].map(cell => cell.textContent.trim()))"


@pytest.fixture
def seeded(make_household, walk, caseworker, outsider, supervisor, unions):
    """On the register: 中原区 2 深度困难 and 1 相对困难, 金水区 1 深度困难 and 1 意外致困; out this year:
    中原区 1 脱困, 金水区 1 脱困 and 1 解困; and a 中原区 draft, on no count but its status's."""
    jinshui_reviewer = UserFactory(username="jsreviewer", role="caseworker", home_union=unions["410105-C01"],
                                   full_name="周红")
    jinshui_second = UserFactory(username="jsreviewer2", role="caseworker", home_union=unions["410105"],
                                 full_name="吴刚")

    def jinshui(household, status):
        return walk_to(household, status, filer=outsider, reviewer=jinshui_reviewer, second_reviewer=jinshui_second,
                       supervisor=supervisor)

    zhongyuan, jinshui_centre = unions["410102-C01"], unions["410105-C01"]
    for fields, cause, status in ((DEEP, Cause.LAID_OFF, Status.REGISTERED),
                                  (DEEP, Cause.SERIOUS_ILLNESS, Status.REGISTERED),
                                  (RELATIVE, Cause.LAID_OFF, Status.REGISTERED),
                                  (RELATIVE, Cause.LAID_OFF, Status.EXITED)):
        walk(make_household(by=caseworker, union=zhongyuan, main_cause=cause, **fields), status)
    for fields, cause, status in ((DEEP, Cause.NO_WORK_CAPACITY, Status.REGISTERED),
                                  (ACCIDENT, Cause.SERIOUS_ILLNESS, Status.REGISTERED),
                                  (RELATIVE, Cause.LAID_OFF, Status.EXITED)):
        jinshui(make_household(by=outsider, union=jinshui_centre, main_cause=cause, **fields), status)
    # 解困: the head cannot work.
    relieved = make_household(by=outsider, union=jinshui_centre, main_cause=Cause.SERIOUS_ILLNESS, members=[
        new_member(relationship=Relationship.SELF, sex=Sex.MALE, name="刘德明", able_to_work=False,
                   health=Health.SERIOUS, work_status=WorkStatus.SICK_LEAVE),
        new_member(relationship=Relationship.SPOUSE, sex=Sex.FEMALE, name="李秀英")], **RELATIVE)
    jinshui(relieved, Status.REGISTERED)
    register.propose_exit(relieved, by=outsider, **exit_proposal(ExitKind.RELIEF, reason="重病，无劳动能力"))
    register.approve_exit(relieved, by=supervisor, reason="同意解困")
    make_household(by=caseworker, union=zhongyuan)

    # The seed is what the expected figures below say it is.
    on_register = Household.objects.filter(status=Status.REGISTERED)
    assert sorted(on_register.values_list("union__code", "category")) == sorted([
        ("410102-C01", "deep"), ("410102-C01", "deep"), ("410102-C01", "relative"),
        ("410105-C01", "deep"), ("410105-C01", "accident")])
    today = timezone.localdate()
    assert sorted(Household.objects.filter(closed_on=today).values_list("union__code", "status")) == [
        ("410102-C01", Status.EXITED), ("410105-C01", Status.EXITED), ("410105-C01", Status.RELIEVED)]


@pytest.fixture
def watched(new_page):
    """A page that records console errors and warnings, uncaught exceptions, failed requests and policy
    violations."""
    page = new_page()
    page.add_init_script(WATCH)
    problems = []
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("response", lambda response: problems.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    page.problems = problems
    return page


def assert_clean(page) -> None:
    """Nothing went wrong on the page so far: no console error, failed request or policy violation."""
    problems = page.problems + page.evaluate("window.__violations")
    assert problems == [], "\n".join(problems)


def open_dashboard(page, heading: str) -> None:
    """The dashboard of a union is shown and its charts drawn (the chart data fetched and set)."""
    expect(page.get_by_role("heading", level=1)).to_have_text(f"帮扶工作统计 · {heading}")
    # Not wait_for_function: its polled expression is eval'd in the page, which the policy refuses.
    expect(page.locator("html")).to_have_attribute("data-charts-ready", "true")
    expect(page.locator("#dashboard")).not_to_have_class("charts-failed")
    assert_clean(page)


def chart(page, name: str, axis: str | None = None) -> dict:
    """A chart's first series, as ECharts holds it, and its category axis's names."""
    return page.evaluate(CHART, [name, axis])


def breakdown(page, name: str) -> list[tuple[str, int]]:
    return [tuple(row) for row in page.locator(f"[data-table={name}] tbody tr").evaluate_all(BREAKDOWN)]


def number(text: str):
    """A table cell's number: 1,234 / 12.5% / 0.00 as a Decimal; — and 未设目标 as None."""
    if text in ("—", "未设目标", "未设定"):
        return None
    return Decimal(text.replace(",", "").rstrip("%"))


def child_table(page) -> list[list]:
    """The child table's rows: the unit's name, then each column's number."""
    rows = page.locator("[data-table=ranking] tbody tr").evaluate_all(CELLS)
    return [[name, *map(number, cells)] for name, *cells in rows]


def crumbs(page) -> list[str]:
    return page.locator("nav.breadcrumbs a").all_inner_texts()


def assert_drawn(page, name: str, *texts: str) -> None:
    """The chart is drawn (an SVG inside its box, no wider than the box) with these texts on it."""
    svg = page.locator(f"[data-chart={name}] svg")
    expect(svg).to_have_count(1)
    box, drawing = page.locator(f"[data-chart={name}]").bounding_box(), svg.bounding_box()
    assert drawing["width"] > 100 and drawing["height"] > 100, (name, drawing)
    assert drawing["x"] >= box["x"] - 1 and drawing["x"] + drawing["width"] <= box["x"] + box["width"] + 1, name
    for text in texts:
        assert svg.locator("text", has_text=text).count() > 0, f"{text!r} not on the {name} chart"


def both_widths(page, name: str) -> list:
    """Screenshot the page on a laptop and on a phone, the charts redrawn at each width; nothing may be wider than
    the screen."""
    shots = []
    for label, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(400)  # the charts redraw on the window's resize event
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {viewport['width']} px"
        for node in page.locator("[data-chart] svg").all():
            drawing = node.bounding_box()
            assert drawing["x"] + drawing["width"] <= viewport["width"], f"a {name} chart overflows at {label}"
        shots.append(screenshot(page, f"dashboard-{name}-{label}"))
    page.set_viewport_size(LAPTOP)
    page.wait_for_timeout(400)
    assert_clean(page)
    return shots


def hover_tooltip(page, name: str, x: float, y: float):
    """Hover a point of a chart (fractions of its box) and return its tooltip's text: drawn as rich text inside the
    chart's SVG (an HTML tooltip would need inline styles), so the texts that appear with the hover."""
    texts = f"() => [...document.querySelectorAll('[data-chart={name}] svg text')].map(t => t.textContent.trim())"
    page.locator(f"[data-chart={name}]").scroll_into_view_if_needed()
    before = page.evaluate(texts)
    box = page.locator(f"[data-chart={name}]").bounding_box()
    page.mouse.move(box["x"] + box["width"] * x, box["y"] + box["height"] * y)
    page.wait_for_timeout(400)
    after = page.evaluate(texts)
    page.mouse.move(0, 0)
    for text in before:
        if text in after:
            after.remove(text)
    return " ".join(t for t in after if t)


def test_a_supervisor_drills_down_checks_the_charts_sets_targets_and_exports(
        watched, login, live_server, supervisor, seeded):
    today = timezone.localdate()
    year, next_year = today.year, today.year + 1
    page = login(watched, "supervisor")

    # The province's dashboard, from the navigation.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="统计分析").click()
    response = page.reload()
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy and "unsafe" not in policy, policy
    open_dashboard(page, "河南省总工会")
    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    assert crumbs(page) == []  # the user's own union: nothing above it to go to
    expect(page.locator("nav.breadcrumbs [aria-current=page]")).to_have_text("河南省总工会")
    stats = page.locator(".stats")
    expect(stats.locator(".stat", has_text="在档户数").locator(".stat-value")).to_have_text("5")
    expect(stats.locator(".stat", has_text=f"{year} 年脱困解困").locator(".stat-value")).to_have_text("3")
    expect(stats.locator(".stat", has_text="人均收入低于低保").locator(".stat-value")).to_have_text("3")
    expect(stats.locator(".stat", has_text="本年目标").locator(".stat-value")).to_have_text("—")

    # Each chart shows its table's numbers.
    categories = [("深度困难", 3), ("相对困难", 1), ("意外致困", 1)]
    assert breakdown(page, "categories") == categories
    assert [(item["name"], item["value"]) for item in chart(page, "categories")["data"]] == categories
    assert_drawn(page, "categories", "深度困难", "相对困难", "意外致困")
    causes = breakdown(page, "causes")
    assert [(name, n) for name, n in causes if n] == [("无劳动能力", 1), ("下岗失业", 2), ("重特大疾病", 2)]
    drawn = chart(page, "causes", "yAxis")
    assert list(zip(drawn["names"], drawn["data"], strict=True)) == [(name, n) for name, n in causes if n]
    assert_drawn(page, "causes", "下岗失业", "重特大疾病")
    progress = {cell.get_attribute("data-value"): cell.inner_text()
                for cell in page.locator("[data-table=progress] td[data-value]").all()}
    assert progress == {"exited": "3", "planned": "3", "target": "未设定"}
    assert chart(page, "progress", "xAxis") == {"data": [3, 3, None], "names": ["脱困解困", "计划", "目标"]}
    assert_drawn(page, "progress", "脱困解困")
    table = page.locator("[data-table=progress]")
    expect(table.locator("tr", has_text="已脱困").locator("td")).to_have_text("2")
    expect(table.locator("tr", has_text="已解困").locator("td")).to_have_text("1")
    # The tooltips show under the policy too.
    shots = both_widths(page, "province")
    assert child_table(page) == [["郑州市总工会", 5, 3, None, None, 0, 3, 5, 5, 5, 5, 0, 0, Decimal("0.00"),
                                  Decimal("0.00")]]

    # Down to the city: its counties, and the ranking chart drawn from the same rows.
    page.locator("[data-table=ranking]").get_by_role("link", name="郑州市总工会").click()
    open_dashboard(page, "郑州市总工会")
    expect(page).to_have_url(f"{live_server.url}/dashboard/410100/?year={year}")
    assert crumbs(page) == ["河南省总工会"]
    city_rows = [
        ["中原区总工会", 3, 1, None, None, 0, 2, 3, 3, 3, 3, 0, 0, Decimal("0.00"), Decimal("0.00")],
        ["金水区总工会", 2, 2, None, None, 0, 1, 2, 2, 2, 2, 0, 0, Decimal("0.00"), Decimal("0.00")],
    ]
    assert child_table(page) == city_rows
    ranking = chart(page, "ranking", "yAxis")  # no target below: the year's exits, the first row at the top
    assert list(zip(ranking["names"], ranking["data"], strict=True)) == [("金水区总工会", 2), ("中原区总工会", 1)]
    assert_drawn(page, "ranking", "中原区总工会", "金水区总工会")
    shots += both_widths(page, "city")

    # The city's table in Excel: the same numbers, with the scope and the date.
    headers = page.locator("[data-table=ranking] thead th").all_inner_texts()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="导出 Excel").click()
    download = download_info.value
    assert download.suggested_filename == f"帮扶工作统计_410100_{today:%Y%m%d}.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(download.path().read_bytes()))
    assert workbook.sheetnames == ["概况", "下级单位"]
    summary = [row for row in workbook["概况"].iter_rows(values_only=True) if any(cell is not None for cell in row)]
    expected_heading = [("统计范围", "郑州市总工会"), ("统计日期", f"{today.year}年{today.month}月{today.day}日"),
                        ("统计年度", year)]
    assert [row[:2] for row in summary[:3]] == expected_heading
    values = {row[0]: row[1] for row in summary}
    assert (values["在档户数"], values["本年脱困"], values["本年解困"], values["低于低保"]) == (5, 2, 1, 3)
    assert (values["深度困难"], values["相对困难"], values["意外致困"]) == (3, 1, 1)
    children = [row for row in workbook["下级单位"].iter_rows(values_only=True) if any(c is not None for c in row)]
    assert [row[:2] for row in children[:3]] == expected_heading
    assert list(children[3]) == [name.strip() for name in headers]
    exported = [[row[0], *(None if cell is None else Decimal(str(cell)).quantize(Decimal("0.01"))
                           if isinstance(cell, float) else cell for cell in row[1:])] for row in children[4:]]
    assert exported == child_table(page) == city_rows
    assert_clean(page)

    # Down to the county, and back up by the breadcrumbs.
    page.locator("[data-table=ranking]").get_by_role("link", name="中原区总工会").click()
    open_dashboard(page, "中原区总工会")
    expect(page).to_have_url(f"{live_server.url}/dashboard/410102/?year={year}")
    assert crumbs(page) == ["河南省总工会", "郑州市总工会"]
    expect(page.locator("nav.breadcrumbs [aria-current=page]")).to_have_text("中原区总工会")
    county_categories = [("深度困难", 2), ("相对困难", 1), ("意外致困", 0)]
    assert breakdown(page, "categories") == county_categories
    assert [(item["name"], item["value"]) for item in chart(page, "categories")["data"]] == county_categories[:2]
    assert [row[:3] for row in child_table(page)] == [["中原区困难职工帮扶中心", 3, 1]]
    shots += both_widths(page, "county")
    page.locator("nav.breadcrumbs").get_by_role("link", name="郑州市总工会").click()
    open_dashboard(page, "郑州市总工会")
    assert child_table(page) == city_rows
    page.locator("nav.breadcrumbs").get_by_role("link", name="河南省总工会").click()
    open_dashboard(page, "河南省总工会")
    expect(page).to_have_url(f"{live_server.url}/dashboard/410000/?year={year}")

    # Next year's targets: the province's own, and its city's that do not add up to it.
    page.get_by_role("link", name="设定脱困目标").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{next_year} 年度脱困目标")
    rows = page.locator(".targets-table tbody tr").evaluate_all(CELLS)
    assert [row[:3] for row in rows] == [["河南省总工会 （本级）", "5", "0"], ["郑州市总工会", "5", "0"]]
    page.get_by_label("河南省总工会", exact=True).fill("10")
    page.get_by_label("郑州市总工会", exact=True).fill("8")
    page.get_by_role("button", name="保存目标").click()
    expect(page.locator(".message-success")).to_have_text(f"已保存 {next_year} 年度的脱困目标（2 项有变化）。")
    expect(page.get_by_label("河南省总工会", exact=True)).to_have_value("10")
    expect(page.get_by_label("郑州市总工会", exact=True)).to_have_value("8")
    expect(page.locator(".message-warning")).to_have_text("下级单位目标合计 8 户，与本级目标 10 户不一致。")
    assert sorted(ExitTarget.objects.values_list("union__code", "year", "households")) == [
        ("410000", next_year, 10), ("410100", next_year, 8)]
    shots += both_widths(page, "targets")

    # This year's dashboard has no target; next year's (chosen in the year menu) has them.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="统计分析").click()
    open_dashboard(page, "河南省总工会")
    expect(page.locator(".stats .stat", has_text="本年目标").locator(".stat-value")).to_have_text("—")
    expect(page.get_by_text("不一致")).to_have_count(0)
    page.get_by_label("年度").select_option(str(next_year))
    expect(page).to_have_url(f"{live_server.url}/dashboard/?year={next_year}")
    open_dashboard(page, "河南省总工会")
    expect(page.locator(".stats .stat", has_text="本年目标").locator(".stat-value")).to_have_text("10")
    expect(page.locator(".stats .stat", has_text=f"{next_year} 年脱困解困").locator(".stat-value")).to_have_text("0")
    expect(page.locator(".notes .message-warning", has_text="不一致")).to_have_text(
        "下级单位目标合计 8 户，与本级目标 10 户不一致。")
    progress = {cell.get_attribute("data-value"): cell.inner_text()
                for cell in page.locator("[data-table=progress] td[data-value]").all()}
    assert progress == {"exited": "0", "planned": "0", "target": "10"}
    assert chart(page, "progress", "xAxis")["data"] == [0, 0, 10]
    assert [row[:5] for row in child_table(page)] == [["郑州市总工会", 5, 0, 8, Decimal("0.0")]]
    ranking = chart(page, "ranking", "yAxis")  # by progress now that the city has a target
    assert list(zip(ranking["names"], ranking["data"], strict=True)) == [("郑州市总工会", 0)]
    shots += both_widths(page, "next-year")
    assert len(shots) == 10 and all(shot.stat().st_size > 20_000 for shot in shots)


def test_the_charts_tooltips_show_under_the_policy(watched, login, live_server, supervisor, seeded):
    """Hovering a chart shows its tooltip with the figure, and the policy refuses nothing (no inline style)."""
    page = login(watched, "supervisor")
    page.goto(f"{live_server.url}/dashboard/410100/")
    open_dashboard(page, "郑州市总工会")
    page.wait_for_timeout(1500)  # the charts' opening animation over: the slices where they stay
    # The ring's top right is its first slice (深度困难, 3 of 5); a bar chart's tooltip is of the row under the mouse.
    for name, x, y, expected in (("categories", 0.53, 0.27, "深度困难: 3 (60%)"), ("progress", 0.5, 0.5, "计划"),
                                 ("causes", 0.5, 0.5, "下岗失业"), ("ranking", 0.5, 0.5, "区总工会 脱困解困")):
        shown = hover_tooltip(page, name, x, y)
        assert expected in shown, (name, shown)
        problems = page.problems + page.evaluate("window.__violations")
        assert problems == [], f"hovering the {name} chart:\n" + "\n".join(problems)
