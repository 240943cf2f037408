"""Exporting households and members in the layout the import reads: layout, values, masking, escaping,
scope, audit and speed."""

import datetime
import io
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from dossiers import export_views
from dossiers.choices import Cause, Relationship, Sex, Status
from dossiers.legacy import export, values
from dossiers.legacy.export import escape_formula, export_queryset, write_csv, write_xlsx
from dossiers.legacy.headers import map_headers
from dossiers.legacy.importer import run_import
from dossiers.legacy.layout import COMBINED_COLUMNS, HOUSEHOLD_COLUMNS, HOUSEHOLD_SHEET, MEMBER_COLUMNS, MEMBER_SHEET
from dossiers.legacy.reading import read_workbook
from dossiers.models import Household, Member
from hardship.models import AccessRecord
from tests.dossiers.conftest import at_beijing, default_members, new_member, search_params
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BANK_CARD = "6222020200112233445"


def export_url(file_format: str) -> str:
    return reverse("dossiers:export", args=[file_format])


def download(client, file_format: str, **params):
    response = client.get(export_url(file_format), params)
    assert response.status_code == 200, response.status_code
    return response


def sheets(response, file_format: str) -> dict[str, list[list]]:
    return {sheet.name: sheet.rows for sheet in read_workbook(response.content, f"export.{file_format}")}


def as_dicts(rows: list[list], columns) -> list[dict]:
    """Data rows keyed by field, read back through the header mapping the import uses."""
    mapping = map_headers(rows[0]).columns
    assert set(mapping) == {key for key, _ in columns}
    return [{key: row[index] for key, index in mapping.items()} for row in rows[1:]]


def csv_rows(response) -> list[dict]:
    (rows,) = sheets(response, "csv").values()
    return as_dicts(rows, COMBINED_COLUMNS)


@pytest.fixture
def family(make_family) -> Household:
    """A household of three in 中原区 with every kind of value set."""
    return make_family()


@pytest.fixture
def make_family(make_household, caseworker, unions):
    return lambda: _family(make_household, caseworker, unions)


def _family(make_household, caseworker, unions) -> Household:
    members = [
        new_member(relationship=Relationship.SELF, sex=Sex.MALE, name="张建国", employer="郑州纺织厂",
                   monthly_income=Decimal("1000.00"), health_notes="肝硬化晚期，长期住院"),
        new_member(relationship=Relationship.SPOUSE, sex=Sex.FEMALE, name="李秀英", work_status="laid_off",
                   able_to_work=False, disability="physical", health="disabled"),
        new_member(relationship=Relationship.CHILD, sex=Sex.FEMALE, name="张小雨", work_status="student",
                   employer="郑州市第九中学", birth=datetime.date(2010, 5, 4)),
    ]
    return make_household(
        by=caseworker, union=unions["410102-C01"], members=members, main_cause=Cause.SERIOUS_ILLNESS,
        secondary_causes=[Cause.LAID_OFF, Cause.SCHOOLING], income_wages=Decimal("12000.00"),
        income_transfers=Decimal("500.50"), cost_illness=Decimal("3600.00"), legacy_category="dibao",
        single_parent=True, bank_name="中国工商银行", bank_card=BANK_CARD, receives_dibao=True,
        dibao_amount=Decimal("420.00"),
    )


# --- layout --------------------------------------------------------------------------------------------------

def test_it_writes_two_sheets_with_the_layout_headers_in_order(client_for, family, caseworker):
    workbook = sheets(download(client_for(caseworker), "xlsx"), "xlsx")
    assert list(workbook) == [HOUSEHOLD_SHEET, MEMBER_SHEET]
    assert workbook[HOUSEHOLD_SHEET][0] == [header for _, header in HOUSEHOLD_COLUMNS]
    assert workbook[MEMBER_SHEET][0] == [header for _, header in MEMBER_COLUMNS]
    assert len(workbook[HOUSEHOLD_SHEET]) == 2 and len(workbook[MEMBER_SHEET]) == 3  # header + the two others


def test_it_writes_one_combined_csv_sheet_with_a_bom(client_for, family, caseworker):
    response = download(client_for(caseworker), "csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    (rows,) = sheets(response, "csv").values()
    assert rows[0] == [header for _, header in COMBINED_COLUMNS]
    head, spouse, child = csv_rows(response)
    assert (head["name"], head["relationship"], head["head_id_number"]) == ("张建国", "本人", None)
    assert [spouse["relationship"], child["relationship"]] == ["配偶", "子女"]
    assert values.parse_id_number(spouse["head_id_number"]) == family.head_id_number
    assert spouse["address"] is None and spouse["serial"] is None  # household-only columns stay empty


@pytest.mark.parametrize("columns", [HOUSEHOLD_COLUMNS, MEMBER_COLUMNS, COMBINED_COLUMNS])
def test_it_uses_headers_the_import_maps_to_the_intended_fields(columns):
    mapped = map_headers([header for _, header in columns])
    assert mapped.columns == {key: index for index, (key, _) in enumerate(columns)}
    assert not mapped.unknown and not mapped.duplicates


def test_it_names_the_download_and_marks_it_private(client_for, family, caseworker):
    response = download(client_for(caseworker), "xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "attachment;" in response["Content-Disposition"]
    assert "filename*=UTF-8''%E5%9B%B0%E9%9A%BE" in response["Content-Disposition"]  # 困难职工家庭档案_….xlsx
    assert "no-store" in response["Cache-Control"]


# --- values --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("hour", "minute"), [(23, 30), (0, 30)])
def test_it_writes_values_as_the_import_parsers_read_them(client_for, make_family, caseworker, hour, minute):
    """At 00:30 Beijing time the UTC date is still yesterday: the file's date is the Beijing one."""
    filed = datetime.date(2026, 4, 1)
    with time_machine.travel(at_beijing(filed, hour, minute), tick=False):
        family = make_family()
    Household.objects.filter(pk=family.pk).update(category="relative")
    for file_format in ("xlsx", "csv"):
        response = download(client_for(caseworker), file_format)
        if file_format == "xlsx":
            workbook = sheets(response, "xlsx")
            (head,) = as_dicts(workbook[HOUSEHOLD_SHEET], HOUSEHOLD_COLUMNS)
            spouse, child = as_dicts(workbook[MEMBER_SHEET], MEMBER_COLUMNS)
        else:
            head, spouse, child = csv_rows(response)
        primary = family.members.get(is_primary=True)
        assert values.parse_id_number(head["id_number"]) == primary.id_number
        assert values.parse_date(head["birth_date"]) == primary.birth_date
        assert values.parse_date(head["filed_on"]) == filed
        assert values.parse_money(head["annual_income"]) == Decimal("12500.50")
        assert values.parse_money(head["monthly_income"]) == Decimal("1000.00")
        assert values.parse_money(head["dibao_amount"]) == Decimal("420.00")
        assert values.parse_causes(head["causes"]) == [6]
        assert values.parse_causes(head["secondary_causes"]) == [3, 9]
        assert values.parse_bool(head["single_parent"]) is True and values.parse_bool(head["migrant_worker"]) is False
        assert values.parse_legacy_category(head["original_category"]) == "dibao"
        assert values.parse_sex(spouse["sex"]) == "F" and values.parse_bool(spouse["able_to_work"]) is False
        assert values.parse_date(child["birth_date"]) == datetime.date(2010, 5, 4)
        assert int(float(head["household_size"])) == 3 and int(float(head["serial"])) == 1
        assert {key: head[key] for key in ("status", "legacy_category", "housing_type", "work_status", "key_group")} \
            == {"status": "草稿", "legacy_category": "相对困难", "housing_type": "租赁私房", "work_status": "在岗",
                "key_group": "无"}
        assert (spouse["disability"], spouse["health"], child["work_status"], child["employer"]) \
            == ("肢体残疾", "残疾", "在校", "郑州市第九中学")


def test_it_writes_dates_and_money_as_text_in_the_csv(client_for, family, caseworker):
    head = csv_rows(download(client_for(caseworker), "csv"))[0]
    assert head["annual_income"] == "12500.50" and head["income_wages"] == "12000.00"
    assert head["cost_housing"] == "0.00"
    assert head["birth_date"] == family.members.get(is_primary=True).birth_date.isoformat()
    assert head["causes"] == "6-重特大疾病" and head["secondary_causes"] == "3-下岗失业、9-子女上学"


def test_it_writes_typed_date_and_money_cells_and_text_id_cells_in_the_xlsx(client_for, family, caseworker):
    content = download(client_for(caseworker), "xlsx").content
    sheet = openpyxl.load_workbook(io.BytesIO(content))[HOUSEHOLD_SHEET]
    cells = {header: cell for (_, header), cell in zip(HOUSEHOLD_COLUMNS, sheet[2])}
    assert cells["身份证号码"].data_type == "s" and cells["身份证号码"].value == family.head_id_number
    assert cells["身份证号码"].number_format == "@"
    assert cells["家庭年总收入（元）"].value == 12500.5 and cells["家庭年总收入（元）"].number_format == "0.00"
    assert cells["出生日期"].is_date and cells["出生日期"].number_format == "yyyy-mm-dd"
    assert sheet.freeze_panes == "A2"


def test_it_takes_the_filing_date_and_status_from_the_register(client_for, family, caseworker, walk):
    walk(family, Status.REGISTERED)
    Household.objects.filter(pk=family.pk).update(registered_on=datetime.date(2025, 3, 7), category="deep")
    head = csv_rows(download(client_for(caseworker), "csv"))[0]
    assert (head["status"], head["filed_on"]) == ("在档", "2025-03-07")
    assert (head["legacy_category"], head["original_category"]) == ("深度困难", "低保户")


def test_it_falls_back_to_the_legacy_category_and_leaves_blanks_empty(client_for, family, caseworker):
    Household.objects.filter(pk=family.pk).update(category="", legacy_category="")
    head = csv_rows(download(client_for(caseworker), "csv"))[0]
    assert head["legacy_category"] is None and head["original_category"] is None
    Household.objects.filter(pk=family.pk).update(legacy_category="near_dibao")
    head = csv_rows(download(client_for(caseworker), "csv"))[0]
    assert head["legacy_category"] == head["original_category"] == "低保边缘户"


def test_it_writes_chinese_labels_in_an_english_session(client_for, family, caseworker):
    client = client_for(caseworker)
    client.post(reverse("set_language"), {"language": "en"})
    head, spouse, _ = csv_rows(download(client, "csv"))
    assert (head["sex"], head["status"], spouse["relationship"]) == ("男", "草稿", "配偶")
    with translation.override("en"):
        assert str(Status.DRAFT.label) == "Draft"  # the session really was English


def test_it_exports_a_file_that_lost_its_primary_worker(client_for, family, caseworker):
    family.members.filter(is_primary=True).delete()
    head, *others = csv_rows(download(client_for(caseworker), "csv"))
    assert (head["name"], values.parse_id_number(head["id_number"])) == ("张建国", family.head_id_number)
    assert head["birth_date"] is None and head["household_size"] == "2"
    assert all(values.parse_id_number(row["head_id_number"]) == family.head_id_number for row in others)


# --- personal data -------------------------------------------------------------------------------------------

def _all_text(response, file_format: str) -> str:
    return "\n".join(str(cell) for rows in sheets(response, file_format).values() for row in rows for cell in row)


def test_it_exports_no_file_to_the_system_administrator(client_for, family, county_admin, national_admin):
    for admin in (county_admin, national_admin):  # 三员分立
        for file_format in ("xlsx", "csv"):
            assert client_for(admin).get(export_url(file_format)).status_code == 403


@pytest.mark.parametrize("who, reveals", [("caseworker", True), ("supervisor", True), ("auditor", True)])
def test_it_masks_id_numbers_unless_the_role_may_reveal_them(request, client_for, family, who, reveals):
    client = client_for(request.getfixturevalue(who))
    numbers = list(family.members.values_list("id_number", flat=True))
    for file_format in ("xlsx", "csv"):
        text = _all_text(download(client, file_format), file_format)
        for number in numbers:
            assert (number in text) is reveals
            assert (f"{number[:6]}********{number[-4:]}" in text) is not reveals


def test_it_always_masks_the_bank_card_and_never_exports_health_notes(client_for, family, caseworker):
    for file_format in ("xlsx", "csv"):
        response = download(client_for(caseworker), file_format)
        text = _all_text(response, file_format)
        assert BANK_CARD not in text and BANK_CARD[:6] not in text
        assert f"**** {BANK_CARD[-4:]}" in text
        assert "肝硬化" not in text


def test_it_keeps_id_numbers_text_in_the_csv_for_excel(client_for, family, caseworker):
    text = download(client_for(caseworker), "csv").content.decode("utf-8-sig")
    assert f",\t{family.head_id_number}," in text  # a leading tab: Excel keeps all 18 digits


# --- formula injection ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, escaped", [
    ("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-5", "'-5"), ("@SUM(1)", "'@SUM(1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("'=1", "'=1"), ("张=三", "张=三"), ("'张", "'张"), ("", ""),
])
def test_it_escapes_text_that_starts_like_a_formula(text, escaped):
    assert escape_formula(text) == escaped


def test_it_escapes_formulas_in_both_files(client_for, make_household, caseworker, unions):
    members = [new_member(name="张建国"), new_member(relationship=Relationship.SPOUSE, sex=Sex.FEMALE, name="@SUM(1)")]
    make_household(by=caseworker, union=unions["410102-C01"], members=members,
                   address='=HYPERLINK("http://evil.example","点我")')
    client = client_for(caseworker)
    content = download(client, "xlsx").content
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    address = workbook[HOUSEHOLD_SHEET].cell(row=2, column=[k for k, _ in HOUSEHOLD_COLUMNS].index("address") + 1)
    spouse = workbook[MEMBER_SHEET].cell(row=2, column=2)
    assert (address.data_type, address.value) == ("s", '\'=HYPERLINK("http://evil.example","点我")')
    assert (spouse.data_type, spouse.value) == ("s", "'@SUM(1)")
    head, spouse_row = csv_rows(download(client, "csv"))
    assert head["address"] == '\'=HYPERLINK("http://evil.example","点我")' and spouse_row["name"] == "'@SUM(1)"


# --- scope, roles, filters -----------------------------------------------------------------------------------

def _names(response) -> set[str]:
    return {row["name"] for row in csv_rows(response) if row["relationship"] == "本人"}


def test_it_exports_only_the_users_subtree(client_for, make_household, caseworker, outsider, supervisor, unions):
    make_household(by=caseworker, union=unions["410102-S01"],
                   members=[new_member(name="中原甲"), *default_members()[1:]])
    make_household(by=outsider, union=unions["410105-C01"], members=[new_member(name="金水乙"), *default_members()[1:]])
    assert _names(download(client_for(outsider), "csv")) == {"金水乙"}
    xlsx = sheets(download(client_for(outsider), "xlsx"), "xlsx")
    assert [row[1] for row in xlsx[HOUSEHOLD_SHEET][1:]] == ["金水乙"]
    assert _names(download(client_for(caseworker), "csv")) == {"中原甲"}
    assert _names(download(client_for(supervisor), "csv")) == {"中原甲", "金水乙"}


def test_it_follows_the_list_filters(client_for, make_household, caseworker, unions, walk):
    make_household(by=caseworker, union=unions["410102-C01"],
                   members=[new_member(name="草稿户"), *default_members()[1:]])
    walk(make_household(by=caseworker, union=unions["410102-C01"],
                        members=[new_member(name="在档户"), *default_members()[1:]]), Status.REGISTERED)
    client = client_for(caseworker)
    assert _names(download(client, "csv", status="registered")) == {"在档户"}
    assert _names(download(client, "csv", **search_params(client, {"q": "草稿"}))) == {"草稿户"}
    assert _names(download(client, "csv", q="草稿")) == {"草稿户", "在档户"}  # a search text in a URL is not read
    assert _names(download(client, "csv", union="410105")) == set()
    assert _names(download(client, "csv", sort="name")) == {"草稿户", "在档户"}


def test_it_offers_the_export_with_the_lists_current_filters(client_for, family, caseworker):
    page = client_for(caseworker).get(reverse("dossiers:list"), {"status": "draft", "page": "1"}).content.decode()
    assert f'href="{export_url("xlsx")}?status=draft' in page and f'href="{export_url("csv")}?status=draft' in page
    assert "page=1" not in page.split(export_url("xlsx"))[1].split('"')[0]


def test_it_refuses_a_user_without_an_exporting_role(client_for, family, unions):
    roleless = UserFactory(username="roleless", role="", home_union=unions["410102-C01"])
    client = client_for(roleless)
    assert client.get(export_url("xlsx")).status_code == 403
    assert client.get(export_url("csv")).status_code == 403
    assert not AccessRecord.objects.filter(action=AccessRecord.Action.EXPORT).exists()


def test_it_answers_404_for_an_unknown_format_and_asks_strangers_to_sign_in(client, client_for, caseworker):
    assert client.get(export_url("xlsx")).status_code == 302
    assert client_for(caseworker).get(export_url("pdf")).status_code == 404


def test_it_refuses_more_than_the_cap_and_writes_nothing(client_for, family, make_household, caseworker, unions,
                                                         monkeypatch):
    make_household(by=caseworker, union=unions["410102-C01"])
    monkeypatch.setattr(export_views, "MAX_HOUSEHOLDS", 1)
    response = client_for(caseworker).get(export_url("xlsx"), {"status": "draft"})
    assert response.status_code == 302 and response["Location"] == f"{reverse('dossiers:list')}?status=draft"
    assert not AccessRecord.objects.filter(action=AccessRecord.Action.EXPORT).exists()
    page = client_for(caseworker).get(response["Location"]).content.decode()
    assert "符合条件的档案超过 1 户" in page


# --- audit and speed -----------------------------------------------------------------------------------------

def test_it_records_the_export_in_the_audit_trail(client_for, family, make_household, caseworker, unions):
    make_household(by=caseworker, union=unions["410102-C01"])
    response = download(client_for(caseworker), "csv")
    record = AccessRecord.objects.get(action=AccessRecord.Action.EXPORT)
    assert (record.user, record.action, record.union) == (caseworker, AccessRecord.Action.EXPORT, caseworker.home_union)
    assert "2 户" in record.subject and "5 人" in record.subject and "含完整身份证号" in record.subject
    file_name = unquote(response["Content-Disposition"].split("filename*=UTF-8''")[1])
    assert file_name.endswith(".csv") and f"（{file_name}" in record.subject


def test_it_keeps_queries_constant_as_households_grow(client_for, make_household, caseworker, unions):
    client = client_for(caseworker)
    make_household(by=caseworker, union=unions["410102-C01"])

    def count(file_format: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            download(client, file_format)
        return len(captured)

    before = {file_format: count(file_format) for file_format in ("xlsx", "csv")}
    for n in range(5):
        members = [new_member(name=f"户主{n}"),
                   *(new_member(relationship="child", name=f"子女{n}{m}") for m in range(3))]
        make_household(by=caseworker, union=unions["410102-S01"], members=members)
    assert {file_format: count(file_format) for file_format in ("xlsx", "csv")} == before
    assert max(before.values()) <= 12


def test_it_reads_members_in_one_query_per_chunk(family, make_household, caseworker, unions, monkeypatch):
    monkeypatch.setattr(export, "CHUNK_SIZE", 2)
    for _ in range(3):
        make_household(by=caseworker, union=unions["410102-C01"])
    households = Household.objects.visible_to(caseworker).order_by("pk")
    with CaptureQueriesContext(connection) as captured:
        exported = write_csv(export_queryset(households), reveal=True)
        write_xlsx(export_queryset(households), reveal=True)
    assert (exported.households, exported.people) == (4, 9)
    # Per file: one query for the households (a server-side cursor read in chunks) and one for each chunk's members.
    assert len(captured) == 2 * (1 + 2)


# --- round trip through the importer -------------------------------------------------------------------------

HOUSEHOLD_SNAPSHOT = [f.attname for f in Household._meta.concrete_fields if f.attname not in ("updated_at",)]
MEMBER_SNAPSHOT = ["household_id", "is_primary", "is_open", "name", "sex", "ethnicity", "relationship", "id_number",
                   "birth_date", "health", "disability", "medical_insurance", "work_status", "able_to_work",
                   "employer", "monthly_income"]


def snapshot() -> tuple[list[dict], list[dict]]:
    households = list(Household.objects.order_by("pk").values(*HOUSEHOLD_SNAPSHOT))
    for row in households:
        row["bank_card"] = Household.objects.get(pk=row["id"]).bank_card  # decrypted: ciphertexts differ per write
    return households, list(Member.objects.order_by("pk").values("pk", *MEMBER_SNAPSHOT))


@pytest.fixture
def register_of_three(family, make_household, caseworker, unions, walk) -> list[Household]:
    """Three files on the register (the import only updates files that are not in the review pipeline)."""
    deep = make_household(by=caseworker, union=unions["410102-S01"], members=[
        new_member(name="王大力", ethnicity="回族"),
        new_member(relationship=Relationship.PARENT, sex=Sex.FEMALE, name="赵桂兰", birth=datetime.date(1950, 2, 1),
                   work_status="retired", medical_insurance="resident", health="chronic"),
    ], income_wages=Decimal("6000.00"), housing_type="public_rental", area_band="15_30", key_group="illness",
        model_worker="city", migrant_worker=True, legacy_tier="county")
    single = make_household(by=caseworker, union=unions["410102-C01"], members=[new_member(name="刘一人")],
                            income_wages=Decimal("12000.00"),
                            address='=HYPERLINK("http://evil.example","点我")', phone="0371-6300 1234")
    return [walk(household, Status.REGISTERED) for household in (family, deep, single)]


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_an_exported_register_imports_back_unchanged(client_for, register_of_three, caseworker, county_admin,
                                                     unions, file_format):
    response = download(client_for(caseworker), file_format)
    before = snapshot()
    report = run_import(response.content, f"导出.{file_format}", union=unions["410102-C01"], user=county_admin)
    assert report.rejected == [] and report.unknown_columns == []
    assert (report.households_created, report.households_updated, report.households_unchanged) == (0, 0, 3)
    assert (report.members_created, report.members_updated) == (0, 0)
    assert snapshot() == before


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_an_edited_cell_of_an_export_is_the_one_change_the_import_makes(client_for, register_of_three, caseworker,
                                                                        county_admin, unions, file_format):
    content = download(client_for(caseworker), file_format).content
    spouse = register_of_three[0].members.get(relationship=Relationship.SPOUSE)
    if file_format == "xlsx":
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        sheet = workbook[MEMBER_SHEET]
        row = next(row for row in sheet.iter_rows(min_row=2) if row[2].value == spouse.id_number)
        row[[key for key, _ in MEMBER_COLUMNS].index("employer")].value = "郑州市第二纺织厂"
        buffer = io.BytesIO()
        workbook.save(buffer)
        content = buffer.getvalue()
    else:
        text = content.decode("utf-8-sig")
        assert text.count("李秀英") == 1
        line = next(line for line in text.splitlines() if "李秀英" in line)
        cells = line.split(",")
        cells[[key for key, _ in COMBINED_COLUMNS].index("employer")] = "郑州市第二纺织厂"
        content = ("\ufeff" + text.replace(line, ",".join(cells))).encode("utf-8")
    households, members = snapshot()
    report = run_import(content, f"导出.{file_format}", union=unions["410102-C01"], user=county_admin)
    assert report.rejected == []
    assert (report.households_created, report.households_updated, report.households_unchanged) == (0, 1, 2)
    assert (report.members_created, report.members_updated) == (0, 1)
    after_households, after_members = snapshot()
    assert after_households == households
    changed = [(old, new) for old, new in zip(members, after_members) if old != new]
    assert [(old["pk"], {k: v for k, v in new.items() if old[k] != v}) for old, new in changed] \
        == [(spouse.pk, {"employer": "郑州市第二纺织厂"})]
