"""Importing a legacy register: the import engine against stock django-import-export, on one generated workbook.

`workbook()` writes (once; cached in bench/.cache/ by size) an .xlsx in this system's export layout
(dossiers/legacy/layout.py): a title row above the header, sheet 家庭档案 with one row per household
(the primary worker's own details on it) and sheet 家庭成员 with the other members, keyed by 户主身份证号.
BENCH_HOUSEHOLDS (or `./dev bench imports --households N`) sets the size, default 100,000 households
with 2–5 people each (mean 3.0): ~200,000 member rows, ~300,000 people in all. One household in
BAD_EVERY has a member whose ID number has a wrong check character, so skip_invalid leaves it out.

`run()` times, in the same run and on the same rows:
- stock django-import-export: a plain ModelResource for Household importing the first STOCK_ROWS
  household rows (model column names, the required fields filled in the dataset; households only);
- raw PostgreSQL COPY of the same rows (all households, then all members) into temp tables: the floor;
- reading the workbook: python-calamine, dossiers.legacy.reading.read_workbook (calamine plus the
  zip and extent checks), and openpyxl read-only (on the first OPENPYXL_ROWS rows of each sheet when
  the file is larger, extrapolated);
- the engine, `run_import(..., mode="skip_invalid")` on the whole file into a fresh 帮扶中心, end to end
  from the file's bytes; the admin preview (`dry_run=True`) on the same file; and a re-import of the
  same file (everything unchanged). Each repeat starts from empty household tables (TRUNCATE).
Then one more import under cProfile (BENCH_PROFILE=0 to skip), top functions printed, the profile
kept in bench/.cache/imports.prof.

Kept in one module because `./dev bench` runs every bench/<name>.py that has no leading underscore.
"""

from __future__ import annotations

import contextlib
import cProfile
import datetime
import gc
import io
import json
import os
import pstats
import random
import resource
import statistics
import time
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from unittest import mock

from django.db import connection, models, transaction
from django.utils import timezone, translation

from bench.dossiers import (
    AREA_MIX,
    BANKS,
    CAUSE_MIX,
    EMPLOYERS,
    ETHNICITY,
    GIVEN_FIRST,
    GIVEN_SECOND,
    HOUSING_MIX,
    KEY_GROUP_MIX,
    MEMBER_COUNTS,
    STREETS,
    SURNAMES,
    TAIL_SURNAMES,
    Picker,
)
from dossiers.choices import (
    AreaBand,
    Category,
    Cause,
    Disability,
    Health,
    HousingType,
    KeyGroup,
    LegacyCategory,
    LegacyTier,
    MedicalInsurance,
    ModelWorker,
    Relationship,
    Status,
    WorkStatus,
)
from dossiers.legacy import layout, reading
from dossiers.legacy.models import ImportBatch
from dossiers.models import Household, LocalStandard, Member, RegisterEvent
from hardship import idnumbers
from hardship.fields import EncryptedTextField, IdDigestField, id_digest
from hardship.management.commands.load_regions import load_regions
from hardship.models import Region, Union, User
from hardship.unions import NATIONAL_CODE, create_regional_unions

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "100000"))
PROFILE = os.environ.get("BENCH_PROFILE", "1") != "0"
SEED = 2026
GENERATOR_VERSION = 1  # bump when the generated rows change, so cached workbooks are rebuilt
CACHE = Path(__file__).parent / ".cache"
REPEATS = 3
STOCK_ROWS = 2_000
OPENPYXL_ROWS = 20_000
BAD_EVERY = 1_000
COUNTY = "410102"  # 中原区, 郑州: the county union the fresh 帮扶中心 sits under
BIRTH_COUNTIES = ["410102", "410102", "410102", "410103", "410104", "410105", "410108", "410122", "410181",
                  "411002", "410302", "410526", "412726", "130104", "340104"]  # mostly local, some from afar

# Statuses a legacy register holds (档案状态), by share of rows.
STATUS_MIX = {"在档": 82, "已脱困": 12, "已解困": 3, "已注销": 3}
CATEGORY_MIX = {Category.DEEP: 25, Category.RELATIVE: 60, Category.ACCIDENT: 15}
LEGACY_MIX = {"": 70, LegacyCategory.DIBAO: 12, LegacyCategory.NEAR_DIBAO: 13, LegacyCategory.ACCIDENT: 5}
TIER_MIX = {"": 40, LegacyTier.NATIONAL: 5, LegacyTier.PROVINCIAL: 10, LegacyTier.CITY: 20, LegacyTier.COUNTY: 20,
            LegacyTier.GRASSROOTS: 5}
MODEL_WORKER_MIX = {"": 97, ModelWorker.CITY: 2, ModelWorker.PROVINCIAL: 0.8, ModelWorker.NATIONAL: 0.2}
HEALTH_MIX = {Health.HEALTHY: 62, Health.CHRONIC: 25, Health.SERIOUS: 8, Health.DISABLED: 5}
DISABILITIES = [Disability.PHYSICAL, Disability.VISUAL, Disability.HEARING, Disability.INTELLECTUAL,
                Disability.MENTAL, Disability.MULTIPLE, Disability.SPEECH]
NOTES = ["2019年复核", "已走访", "子女在读大学", "配偶长期患病", "单位已破产", "租住单位旧宿舍", "金秋助学对象"]
SCHOOLS = ["中原区第一小学", "郑州市第四中学", "郑州市第十九中学", "郑州大学", "河南工业大学", "中原区实验幼儿园"]


def labels(choices) -> dict[str, str]:
    """Stored code → the Chinese label the export writes."""
    with translation.override("zh-hans"):
        return {value: str(label) for value, label in choices.choices}


# --- the workbook ---------------------------------------------------------------------------------------------


class People:
    """Valid, distinct ID numbers: seq counts up per (birth county, birth date), as a 派出所 would hand them out."""

    def __init__(self) -> None:
        self.issued: dict[tuple[str, int], int] = {}

    def issue(self, region: str, ordinal: int, sex: str) -> tuple[str, datetime.date]:
        while True:
            seq = self.issued.get((region, ordinal), 0)
            if seq < 500:
                break
            ordinal += 1
        self.issued[(region, ordinal)] = seq + 1
        birth = datetime.date.fromordinal(ordinal)
        return idnumbers.generate(region, birth, seq, sex), birth


def wrong_check(number: str) -> str:
    """The same number with a wrong check character (a typo in the last digit)."""
    right = number[-1]
    return number[:-1] + ("0" if right != "0" else "1")


def generate_rows(households: int) -> tuple[list[list], list[list], dict]:
    """Household rows and member rows in layout order (cells as the workbook holds them), and counts."""
    rng = random.Random(SEED)
    rand = rng.random

    def choice(seq):
        return seq[int(rand() * len(seq))]

    def randrange(n: int) -> int:
        return int(rand() * n)

    pick = {name: Picker(rng, mix) for name, mix in {
        "surname": SURNAMES, "count": MEMBER_COUNTS, "cause": CAUSE_MIX, "housing": HOUSING_MIX, "area": AREA_MIX,
        "key": KEY_GROUP_MIX, "ethnicity": ETHNICITY, "status": STATUS_MIX, "category": CATEGORY_MIX,
        "legacy": LEGACY_MIX, "tier": TIER_MIX, "model": MODEL_WORKER_MIX, "health": HEALTH_MIX,
    }.items()}
    label = {name: labels(choices) for name, choices in {
        "housing": HousingType, "area": AreaBand, "key": KeyGroup, "category": Category, "legacy": LegacyCategory,
        "tier": LegacyTier, "model": ModelWorker, "health": Health, "disability": Disability,
        "insurance": MedicalInsurance, "work": WorkStatus, "relationship": Relationship, "cause": Cause,
    }.items()}

    def person_name(surname: str) -> str:
        return surname + (choice(GIVEN_SECOND) if rand() < 0.2 else choice(GIVEN_FIRST) + choice(GIVEN_SECOND))

    def family_name() -> str:
        return pick["surname"]() if rand() < 0.85 else choice(TAIL_SURNAMES)

    def yes(flag: bool) -> str:
        return "是" if flag else "否"

    def health() -> tuple[str, str]:
        state = pick["health"]()
        disability = choice(DISABILITIES) if state == Health.DISABLED else ""
        return label["health"][state], label["disability"][disability] if disability else ""

    people = People()
    today = datetime.date.today().toordinal()
    head_from = datetime.date(1961, 1, 1).toordinal()
    filed_from = datetime.date(2016, 3, 1).toordinal()
    household_rows, member_rows = [], []
    bad_households = bad_rows = good_people = 0
    for index in range(households):
        surname = family_name()
        head_sex = "M" if rand() < 0.55 else "F"
        head_birth_ordinal = head_from + randrange(13_500)  # 1961 … 1997
        head_id, head_birth = people.issue(choice(BIRTH_COUNTIES), head_birth_ordinal, head_sex)
        head_name = person_name(surname)
        head_work = WorkStatus.EMPLOYED if rand() < 0.45 else choice(
            [WorkStatus.LAID_OFF, WorkStatus.UNEMPLOYED, WorkStatus.SICK_LEAVE, WorkStatus.EARLY_RETIRED,
             WorkStatus.MIGRANT])
        head_earns = head_work in (WorkStatus.EMPLOYED, WorkStatus.MIGRANT, WorkStatus.SICK_LEAVE,
                                   WorkStatus.EARLY_RETIRED)
        head_income = 1800 + randrange(2500) if head_earns else 0
        head_health, head_disability = health()

        count = pick["count"]()
        members, working = [], head_work in (WorkStatus.EMPLOYED, WorkStatus.MIGRANT)
        for position in range(1, count):
            if position == 1 and rand() < 0.85:
                relationship, sex = Relationship.SPOUSE, "F" if head_sex == "M" else "M"
                ordinal = head_birth_ordinal - 1500 + randrange(3000)
                name, work = person_name(family_name()), WorkStatus.EMPLOYED if rand() < 0.4 else WorkStatus.UNEMPLOYED
            elif rand() < 0.8:
                relationship, sex = Relationship.CHILD, "M" if rand() < 0.5 else "F"
                ordinal = min(head_birth_ordinal + 7300 + randrange(5000), today - 400)
                age = (today - ordinal) // 365
                name = person_name(surname)
                work = WorkStatus.PRESCHOOL if age < 6 else WorkStatus.STUDENT if age < 22 else WorkStatus.EMPLOYED
            else:
                relationship, sex = Relationship.PARENT, "M" if rand() < 0.5 else "F"
                ordinal = head_birth_ordinal - 9500 - randrange(4000)
                name, work = person_name(family_name()), WorkStatus.RETIRED
            id_number, birth = people.issue(choice(BIRTH_COUNTIES), ordinal, sex)
            earns = work in (WorkStatus.EMPLOYED, WorkStatus.RETIRED)
            working = working or work == WorkStatus.EMPLOYED
            member_health, member_disability = health()
            members.append([
                head_id, name, id_number, label["relationship"][relationship], "男" if sex == "M" else "女",
                pick["ethnicity"](), birth, member_health, member_disability,
                label["insurance"][MedicalInsurance.EMPLOYEE if earns else MedicalInsurance.RESIDENT],
                label["work"][work], yes(work not in (WorkStatus.PRESCHOOL, WorkStatus.STUDENT, WorkStatus.RETIRED)),
                choice(EMPLOYERS) if work == WorkStatus.EMPLOYED else choice(SCHOOLS) if work == WorkStatus.STUDENT
                else "", 1500 + randrange(3000) if earns else 0,
            ])
        if index % BAD_EVERY == BAD_EVERY - 1:
            members[-1][2] = wrong_check(members[-1][2])
            bad_households += 1
            bad_rows += 1 + len(members)
        else:
            good_people += 1 + len(members)

        main_cause = pick["cause"]()
        secondary = []
        for _ in range(randrange(3)):
            cause = 1 + randrange(10)
            if cause != main_cause and cause not in secondary:
                secondary.append(cause)
        category = pick["category"]()
        wages = head_income * 12 + sum(row[13] * 12 for row in members if row[10] == label["work"]["employed"])
        transfers = sum(row[13] * 12 for row in members if row[10] == label["work"]["retired"]) + randrange(3000)
        receives_dibao = rand() < 0.2
        incomes = {"income_wages": wages, "income_business": 0, "income_property": 0, "income_transfers": transfers,
                   "income_other": randrange(2000) if rand() < 0.2 else 0}
        has_card = rand() < 0.6
        cells = {
            "serial": index + 1,
            "name": head_name,
            "id_number": head_id,
            "sex": "男" if head_sex == "M" else "女",
            "ethnicity": pick["ethnicity"](),
            "birth_date": head_birth,
            "phone": f"1{30 + randrange(60)}{randrange(10**8):08d}",
            "employer": f"郑州{choice(EMPLOYERS)}" if head_work != WorkStatus.UNEMPLOYED else "",
            "work_status": label["work"][head_work],
            "health": head_health,
            "disability": head_disability,
            "medical_insurance": label["insurance"][MedicalInsurance.EMPLOYEE],
            "able_to_work": yes(head_health not in ("重大疾病", "残疾")),
            "monthly_income": head_income,
            "address": f"郑州市中原区{choice(STREETS)}{1 + randrange(300)}号院{1 + randrange(20)}号楼"
                       f"{1 + randrange(6)}单元{1 + randrange(30):02d}{1 + randrange(4):02d}室",
            "household_size": count,
            "status": pick["status"](),
            "filed_on": datetime.date.fromordinal(filed_from + randrange(3000)),
            "legacy_category": label["category"][category],
            "original_category": label["legacy"][legacy] if (legacy := pick["legacy"]()) else "",
            "legacy_tier": label["tier"][tier] if (tier := pick["tier"]()) else "",
            "causes": label["cause"][main_cause],
            "secondary_causes": "、".join(label["cause"][cause] for cause in secondary),
            "key_group": label["key"][key] if (key := pick["key"]()) else "",
            "housing_type": label["housing"][pick["housing"]()],
            "area_band": label["area"][pick["area"]()],
            "single_parent": yes(not any(row[3] == "配偶" for row in members) and rand() < 0.5),
            "zero_employment": yes(not working),
            "self_reliant": yes(rand() < 0.3),
            "model_worker": label["model"][model] if (model := pick["model"]()) else "否",
            "migrant_worker": yes(head_work == WorkStatus.MIGRANT),
            "receives_dibao": yes(receives_dibao),
            "dibao_amount": 300 + randrange(400) if receives_dibao else 0,
            "annual_income": sum(incomes.values()),
            **incomes,
            "cost_illness": randrange(30000) if head_health != "健康" else randrange(3000),
            "cost_disability": randrange(8000) if head_disability else 0,
            "cost_schooling": sum(3000 + randrange(9000) for row in members if row[10] == label["work"]["student"]),
            "cost_housing": randrange(12000) if rand() < 0.3 else 0,
            "cost_other": 0,
            "bank_name": choice(BANKS) if has_card else "",
            "bank_branch": "中原区支行" if has_card else "",
            "bank_card": f"6222{randrange(10**15):015d}" if has_card else "",
            "notes": choice(NOTES) if rand() < 0.05 else "",
        }
        household_rows.append([cells[key] for key, _ in layout.HOUSEHOLD_COLUMNS])
        member_rows.extend(members)
    counts = {"households": households, "member_rows": len(member_rows), "rows": households + len(member_rows),
              "bad_households": bad_households, "bad_rows": bad_rows, "good_households": households - bad_households,
              "good_people": good_people}
    return household_rows, member_rows, counts


def write_workbook(path: Path, household_rows: list[list], member_rows: list[list]) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    title = book.add_format({"bold": True, "font_size": 14, "align": "center"})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    sheets = []
    for name, columns, rows, caption in (
        (layout.HOUSEHOLD_SHEET, layout.HOUSEHOLD_COLUMNS, household_rows, "中原区困难职工家庭档案汇总表"),
        (layout.MEMBER_SHEET, layout.MEMBER_COLUMNS, member_rows, "中原区困难职工家庭成员信息表"),
    ):
        sheet = book.add_worksheet(name)
        sheet.merge_range(0, 0, 0, len(columns) - 1, f"{caption}（截至2025年12月31日）", title)
        for column, (_, text) in enumerate(columns):
            sheet.write_string(1, column, text, header)
        sheets.append((sheet, rows))
    for sheet, rows in sheets:  # one sheet after the other: constant_memory streams each sheet's rows in order
        write_string, write_number, write_datetime = sheet.write_string, sheet.write_number, sheet.write_datetime
        for offset, row in enumerate(rows, 2):
            for column, value in enumerate(row):
                if value is None or value == "":
                    continue
                if type(value) is str:
                    write_string(offset, column, value)
                elif type(value) is datetime.date:
                    write_datetime(offset, column, value, date)
                else:
                    write_number(offset, column, value)
    book.close()


def workbook(households: int) -> tuple[Path, dict]:
    """The cached workbook for this size (generated on first use) and its counts."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"imports-{households}-v{GENERATOR_VERSION}.xlsx"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        return path, json.loads(meta_path.read_text())
    print(f"generating the workbook ({households:,} households) …", flush=True)
    started = time.perf_counter()
    household_rows, member_rows, counts = generate_rows(households)
    generated = time.perf_counter() - started
    partial = path.with_suffix(".partial.xlsx")
    write_workbook(partial, household_rows, member_rows)
    counts.update(generate_s=round(generated, 1), write_s=round(time.perf_counter() - started - generated, 1),
                  bytes=partial.stat().st_size)
    partial.replace(path)
    meta_path.write_text(json.dumps(counts, indent=1))
    return path, counts


# --- database state -------------------------------------------------------------------------------------------


def setting_up() -> tuple[Union, User]:
    """The regional unions (unless an earlier bench loaded them) and a county admin of 中原区."""
    if not Union.objects.filter(code=NATIONAL_CODE).exists():
        load_regions()
        create_regional_unions()
    county = Union.objects.get(code=COUNTY)
    province = Region.objects.get(code=f"{COUNTY[:2]}0000")
    LocalStandard.objects.get_or_create(region=province, effective_from=datetime.date(2016, 1, 1), defaults={
        "poverty_line": "750.00", "min_wage": "1900.00", "source": "基准测试"})
    admin, _ = User.objects.get_or_create(username="bench_import_admin", defaults={
        "role": "admin", "home_union": county, "full_name": "导入管理员"})
    return county, admin


def fresh_centre(county: Union, label: str) -> Union:
    """A new, empty 帮扶中心 under the county: each timed import goes into its own."""
    number = Union.objects.filter(code__startswith=f"{county.code}-B").count() + 1
    return Union.objects.create(code=f"{county.code}-B{number:02d}", name=f"中原区导入测试帮扶中心{number}（{label}）",
                                kind=Union.Kind.HELP_CENTRE, region=county.region, parent=county)


def reset_files() -> None:
    """Empty the household tables (and their history), so that every run starts from the same state.

    TRUNCATE rather than DELETE: register events are immutable (a trigger refuses deletes) and it is
    instant. CASCADE reaches every table with a foreign key to households; pghistory's event tables
    have none, so they are named.
    """
    tables = [Household._meta.db_table, Member._meta.db_table, RegisterEvent._meta.db_table,
              Household.pgh_event_model._meta.db_table, Member.pgh_event_model._meta.db_table,
              ImportBatch._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


# --- timing helpers -------------------------------------------------------------------------------------------


class GcClock:
    """Seconds spent in the cyclic garbage collector while active (gc.callbacks), and the objects it freed:
    many freed objects mean the run left reference cycles that only a collection can reclaim."""

    def __init__(self) -> None:
        self.seconds, self.collections, self.collected, self._started = 0.0, 0, 0, 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.collections += 1
            self.collected += info["collected"]

    def __enter__(self) -> GcClock:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self)


class Phases:
    """Wall-clock phases of run_import from its progress calls: (0, total) once the file is read, 70 % once the
    rows are parsed, 80 % once they are matched against the files, 100 % at the end (see importer._run)."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, int, int]] = []
        self.started = self.ended = 0.0

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((time.perf_counter(), done, total))

    def seconds(self) -> dict[str, float]:
        if not self.calls:
            return {}
        total = self.calls[0][2]

        def last(done: int) -> float | None:
            return next((at for at, seen, _ in reversed(self.calls) if seen == done), None)

        marks = [("read", self.calls[0][0]), ("parse", last(total * 7 // 10)), ("match", last(total * 8 // 10)),
                 ("write", last(total)), ("return", self.ended)]
        if any(at is None for _, at in marks):
            return {}
        phases, previous = {}, self.started
        for name, at in marks:
            phases[name] = at - previous
            previous = at
        return phases


def median_phases(runs: list[dict[str, float]]) -> str:
    runs = [run for run in runs if run]
    if not runs:
        return "(no progress calls)"
    return ", ".join(f"{name} {statistics.median(run[name] for run in runs):.1f} s" for name in runs[0])


def code_version() -> str:
    """The commit the engine was imported from, and whether dossiers/legacy had uncommitted changes then."""
    import subprocess

    root = Path(__file__).parent.parent
    try:
        commit = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=root, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "dossiers/legacy"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.split()[1::2]
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return commit[:90] + (f" + uncommitted {', '.join(dirty)}" if dirty else "")


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- reading --------------------------------------------------------------------------------------------------


def calamine_read(data: bytes) -> dict[str, list[list]]:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in book.sheet_names}
    finally:
        book.close()


def openpyxl_read(data: bytes, limit: int | None) -> tuple[float, dict[str, tuple[int, float]]]:
    """Seconds to open the workbook, and per sheet the data rows read (at most limit) and the seconds taken."""
    import openpyxl

    started = time.perf_counter()
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    opened = time.perf_counter() - started
    sheets = {}
    try:
        for sheet in book.worksheets:
            started, seen = time.perf_counter(), 0
            for _ in sheet.iter_rows(values_only=True):
                seen += 1
                if limit is not None and seen >= limit + 2:
                    break
            sheets[sheet.title] = (seen - 2, time.perf_counter() - started)
    finally:
        book.close()
    return opened, sheets


def round_trips() -> tuple[float, float]:
    """Median ms of `SELECT 1` and of an ORM get by primary key: how loaded the machine is right now."""
    samples = {"raw": [], "orm": []}
    union = Union.objects.order_by("pk").first()
    with connection.cursor() as cursor:
        for _ in range(200):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            samples["raw"].append(time.perf_counter() - started)
            started = time.perf_counter()
            Union.objects.get(pk=union.pk)
            samples["orm"].append(time.perf_counter() - started)
    return statistics.median(samples["raw"]) * 1000, statistics.median(samples["orm"]) * 1000


# --- the baselines --------------------------------------------------------------------------------------------


def model_households(sheet: list[list], union: Union, user: User, limit: int | None = None) -> list[dict]:
    """Household rows of the workbook as model field values, the way a stock import must be fed them."""
    keys = {text: key for key, text in layout.HOUSEHOLD_COLUMNS}
    header_index = next(i for i, row in enumerate(sheet) if "身份证号码" in row)
    fields = [keys.get(text) for text in sheet[header_index]]
    reverse = {name: {text: code for code, text in labels(choices).items()} for name, choices in {
        "housing_type": HousingType, "area_band": AreaBand, "key_group": KeyGroup, "category": Category,
        "legacy_category": LegacyCategory, "legacy_tier": LegacyTier, "model_worker": ModelWorker, "cause": Cause,
    }.items()}
    reverse["model_worker"]["否"] = ""
    statuses = {"在档": Status.REGISTERED, "已脱困": Status.EXITED, "已解困": Status.RELIEVED, "已注销": Status.REMOVED}
    money = ["dibao_amount", "income_wages", "income_business", "income_property", "income_transfers", "income_other",
             "cost_illness", "cost_disability", "cost_schooling", "cost_housing", "cost_other"]
    rows = []
    for number, raw in enumerate(sheet[header_index + 1:][:limit], 1):
        cell = {field: value for field, value in zip(fields, raw) if field}
        filed = cell["filed_on"]
        filed = filed.date() if isinstance(filed, datetime.datetime) else filed
        causes = [reverse["cause"][text] for text in (cell["secondary_causes"] or "").split("、") if text]
        rows.append({
            "file_number": f"{COUNTY}-B-{number:07d}", "union": union.pk, "region": union.region_id,
            "status": str(statuses[cell["status"]]), "category": str(reverse["category"][cell["legacy_category"]]),
            "head_name": cell["name"], "head_id_number": cell["id_number"], "address": cell["address"],
            "phone": cell["phone"] or "", "housing_type": str(reverse["housing_type"][cell["housing_type"]]),
            "area_band": str(reverse["area_band"][cell["area_band"]]),
            **{flag: cell[flag] == "是" for flag in ("single_parent", "zero_employment", "self_reliant",
                                                    "migrant_worker", "receives_dibao")},
            "model_worker": str(reverse["model_worker"][cell["model_worker"]]),
            "key_group": str(reverse["key_group"][cell["key_group"] or "无"]),
            "legacy_tier": str(reverse["legacy_tier"][cell["legacy_tier"] or "无"]),
            "legacy_category": str(reverse["legacy_category"][cell["original_category"] or "无"]),
            "consent_basis": "历史档案导入",
            "bank_name": cell["bank_name"] or "", "bank_branch": cell["bank_branch"] or "",
            "bank_card": cell["bank_card"] or "", "main_cause": int(reverse["cause"][cell["causes"]]),
            "secondary_causes": [int(code) for code in causes],
            **{name: Decimal(str(cell[name] or 0)).quantize(Decimal("0.01")) for name in money},
            "filed_by": user.pk, "entered_by": user.pk, "registered_on": filed,
        })
    return rows


def stock_import(rows: list[dict], *, clean: bool) -> tuple[float, int]:
    """A plain ModelResource for Household over a tablib Dataset of the rows: seconds, rows imported."""
    import tablib
    from import_export import fields, resources, widgets

    class CodesWidget(widgets.SimpleArrayWidget):
        # The one customisation: the stock array widget yields strings, which full_clean rejects as choices.
        def clean(self, value, row=None, **kwargs):
            return [int(code) for code in super().clean(value, row, **kwargs)]

    class HouseholdResource(resources.ModelResource):
        secondary_causes = fields.Field(attribute="secondary_causes", column_name="secondary_causes",
                                        widget=CodesWidget())

        class Meta:
            model = Household
            clean_model_instances = clean
            exclude = ("head_id_number_digest",)  # set with the number (hardship.fields); not a column to read

    headers = list(rows[0])
    dataset = tablib.Dataset(headers=headers)
    for row in rows:
        dataset.append([",".join(map(str, row[h])) if isinstance(row[h], list) else row[h] for h in headers])
    seconds, result = timed(lambda: HouseholdResource().import_data(dataset, dry_run=False, raise_errors=True))
    if result.has_errors() or result.has_validation_errors():
        raise RuntimeError(f"stock import failed: {result.base_errors or result.invalid_rows[:3]}")
    imported = result.totals["new"]
    if imported != len(rows) or Household.objects.count() != len(rows):
        raise RuntimeError(f"stock import wrote {imported} of {len(rows)} rows")
    return seconds, imported


def model_members(sheet: list[list]) -> list[dict]:
    """Member rows as model values (codes looked up; household ids by the head's order of appearance)."""
    reverse = {name: {text: code for code, text in labels(choices).items()} for name, choices in {
        "relationship": Relationship, "health": Health, "disability": Disability, "insurance": MedicalInsurance,
        "work": WorkStatus}.items()}
    keys = {text: key for key, text in layout.MEMBER_COLUMNS}
    header_index = next(i for i, row in enumerate(sheet) if "户主身份证号" in row)
    fields = [keys.get(text) for text in sheet[header_index]]
    households: dict[str, int] = {}
    rows = []
    for raw in sheet[header_index + 1:]:
        cell = {field: value for field, value in zip(fields, raw) if field}
        birth = cell["birth_date"]
        rows.append({
            "household": households.setdefault(cell["head_id_number"], len(households) + 1), "is_primary": False,
            "name": cell["name"], "sex": "M" if cell["sex"] == "男" else "F", "ethnicity": cell["ethnicity"],
            "relationship": str(reverse["relationship"][cell["relationship"]]), "id_number": cell["id_number"],
            "birth_date": birth.date() if isinstance(birth, datetime.datetime) else birth,
            "health": str(reverse["health"][cell["health"]]),
            "disability": str(reverse["disability"][cell["disability"] or "无"]),
            "medical_insurance": str(reverse["insurance"][cell["medical_insurance"]]),
            "work_status": str(reverse["work"][cell["work_status"]]), "able_to_work": cell["able_to_work"] == "是",
            "employer": cell["employer"] or "",
            "monthly_income": Decimal(str(cell["monthly_income"] or 0)).quantize(Decimal("0.01")),
        })
    return rows


def copy_tuples(model, rows: list[dict]) -> tuple[list[str], list[tuple]]:
    """Every concrete column of the model, and the rows as tuples: given values, else the model's defaults."""
    now = timezone.now()
    fields = model._meta.concrete_fields
    defaults = {}
    for field in fields:
        default = field.get_default()
        if default is None and not field.null and isinstance(field, models.DateTimeField):
            default = now  # auto_now
        defaults[field.name] = default
    tuples = []
    for number, row in enumerate(rows, 1):
        tuples.append(tuple(number if field.primary_key else stored(field, row, defaults) for field in fields))
    return [field.column for field in fields], tuples


def stored(field, row: dict, defaults: dict):
    """The value as the table holds it: encrypted columns as ciphertext, an ID number's digest beside it (made
    here, before the timing: the floor is the database's share)."""
    if isinstance(field, IdDigestField):
        return id_digest(row[field.number_attname])
    value = row.get(field.name, defaults[field.name])
    return field.get_prep_value(value) if isinstance(field, EncryptedTextField) and value else value


def copy_into_tables(copies: list[tuple[type[models.Model], list[str], list[tuple]]], *, history: bool) -> float:
    """Seconds to COPY the rows into the real tables (their indexes, unique and foreign keys checked; with or
    without the pghistory triggers), in a transaction that is rolled back."""
    with transaction.atomic():
        connection.ensure_connection()
        raw = connection.connection
        if not history:
            for model, _columns, _rows in copies:
                raw.execute(f"ALTER TABLE {model._meta.db_table} DISABLE TRIGGER USER")
        started = time.perf_counter()
        for model, columns, rows in copies:
            with raw.cursor().copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred foreign keys are checked here, not at commit
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def copy_rows(table: str, like: str, columns: list[str], rows: list[tuple]) -> float:
    """Seconds to COPY the rows into a fresh temp table shaped like `like` (no indexes, no triggers)."""
    with transaction.atomic():
        connection.ensure_connection()
        raw = connection.connection
        raw.execute(f"CREATE TEMP TABLE {table} (LIKE {like} INCLUDING DEFAULTS) ON COMMIT DROP")
        started = time.perf_counter()
        with raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        seconds = time.perf_counter() - started
        copied = raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    if copied != len(rows):
        raise RuntimeError(f"COPY into {table}: {copied} rows of {len(rows)}")
    return seconds


# --- the engine -----------------------------------------------------------------------------------------------


def engine_run(data: bytes, name: str, county: Union, admin: User, *, dry_run: bool = False,
               union: Union | None = None, label: str = "") -> tuple[float, object, Union, GcClock, Phases]:
    from dossiers.legacy.importer import run_import

    union = union or fresh_centre(county, label)
    batch = ImportBatch.objects.create(union=union, uploaded_by=admin, file_name=name, sha256="0" * 64,
                                       size=len(data), mode=ImportBatch.Mode.SKIP_INVALID)
    phases = Phases()
    with GcClock() as clock:
        phases.started = time.perf_counter()
        report = run_import(data, name, union=union, user=admin, mode="skip_invalid", dry_run=dry_run, batch=batch,
                            progress=phases)
        phases.ended = time.perf_counter()
    return phases.ended - phases.started, report, union, clock, phases


def check_import(report, union: Union, counts: dict, *, dry_run: bool, again: bool) -> None:
    """The report and the database agree with what the generator wrote."""
    good, people = counts["good_households"], counts["good_people"]
    created, unchanged = (0, good) if again else (good, 0)
    problems = []
    if (report.households_created, report.households_unchanged, report.households_updated) != (created, unchanged, 0):
        problems.append(f"households created/unchanged/updated {report.households_created}/"
                        f"{report.households_unchanged}/{report.households_updated}, expected {created}/{unchanged}/0")
    if len(report.rejected_rows) != counts["bad_rows"]:
        problems.append(f"{len(report.rejected_rows)} rejected rows, expected {counts['bad_rows']}")
        for problem in report.rejected[:5]:
            problems.append(f"    {problem}")
    if report.total_rows != counts["rows"]:
        problems.append(f"total_rows {report.total_rows}, expected {counts['rows']}")
    if report.written == dry_run and not again:
        problems.append(f"written={report.written} on a {'dry' if dry_run else 'real'} run")
    stored = Household.objects.filter(union=union).count()
    members = Member.objects.filter(household__union=union).count()
    expected = (0, 0) if dry_run else (good, people)
    if (stored, members) != expected:
        problems.append(f"database holds {stored} households, {members} members; expected {expected}")
    if problems:
        raise RuntimeError("the import did not do what the workbook asks:\n  " + "\n  ".join(problems))


def profile_import(data: bytes, name: str, county: Union, admin: User, rows: int) -> None:
    from dossiers.legacy.importer import run_import

    reset_files()
    union = fresh_centre(county, "profile")
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(run_import, data, name, union=union, user=admin, mode="skip_invalid")
    seconds = time.perf_counter() - started
    path = CACHE / "imports.prof"
    profiler.dump_stats(path)
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).strip_dirs()
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(15)
    print(f"\ncProfile of one import ({seconds:.1f} s under the profiler, {rows / seconds:,.0f} rows/s; "
          f"saved to {path}):")
    print("\n".join(line for line in stream.getvalue().splitlines() if line.strip()))


# --- the bench ------------------------------------------------------------------------------------------------


def run() -> list[dict]:
    total_started = time.perf_counter()
    path, counts = workbook(HOUSEHOLDS)
    data = path.read_bytes()
    name = f"中原区困难职工档案{HOUSEHOLDS}户.xlsx"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(entry.file_size for entry in archive.infolist())
    print(f"workbook: {path.name}: {counts['households']:,} households, {counts['member_rows']:,} member rows "
          f"({counts['rows']:,} rows, {counts['good_people'] + counts['bad_rows']:,} people); "
          f"{counts['bad_households']} households with a wrong ID check character ({counts['bad_rows']} rows); "
          f"{len(data) / 2**20:.1f} MB ({unpacked / 2**20:.0f} MB unpacked)")
    over = len(data) > reading.MAX_BYTES or unpacked > reading.MAX_UNCOMPRESSED
    if over:
        print(f"!! the file is over the reader's limits (MAX_BYTES {reading.MAX_BYTES / 2**20:.0f} MB, "
              f"MAX_UNCOMPRESSED {reading.MAX_UNCOMPRESSED / 2**20:.0f} MB): raised for this bench only")

    def limits() -> contextlib.ExitStack:
        stack = contextlib.ExitStack()
        if over:
            stack.enter_context(mock.patch.object(reading, "MAX_BYTES", max(len(data), reading.MAX_BYTES)))
            stack.enter_context(mock.patch.object(reading, "MAX_UNCOMPRESSED",
                                                  max(unpacked, reading.MAX_UNCOMPRESSED)))
        return stack

    county, admin = setting_up()
    raw_ms, orm_ms = round_trips()
    print(f"timing: median of {REPEATS} runs; load average {os.getloadavg()[0]:.1f}; SELECT 1 {raw_ms:.3f} ms, "
          f"ORM get by pk {orm_ms:.3f} ms (2 shared cores: expect noise)")
    existing = Household.objects.count()
    if existing:
        print(f"note: {existing:,} households from an earlier bench are truncated: each run starts empty")
    rows_out: list[dict] = []
    with limits():
        # Reading.
        sheets = None
        reads = {"calamine": [], "read_workbook": []}
        for _ in range(REPEATS):
            seconds, sheets = timed(lambda: calamine_read(data))
            reads["calamine"].append(seconds)
            seconds, _ = timed(lambda: reading.read_workbook(data, name))
            reads["read_workbook"].append(seconds)
        limit = None if counts["households"] <= OPENPYXL_ROWS else OPENPYXL_ROWS
        opened, read_sheets = openpyxl_read(data, limit)
        totals = {layout.HOUSEHOLD_SHEET: counts["households"], layout.MEMBER_SHEET: counts["member_rows"]}
        # Each sheet scaled by itself: a household row is three times as wide as a member row.
        openpyxl_seconds = opened + sum(seconds * totals[sheet] / max(read, 1)
                                        for sheet, (read, seconds) in read_sheets.items())
        openpyxl_rate = counts["rows"] / openpyxl_seconds
        household_sheet, member_sheet = sheets[layout.HOUSEHOLD_SHEET], sheets[layout.MEMBER_SHEET]

        # Stock django-import-export and raw COPY.
        stock, stock_clean = [], []
        for repeat in range(REPEATS):
            # The variant with model validation runs once: it is slower still and only a reference.
            for results, clean in ((stock, False), (stock_clean, True)) if repeat == 0 else ((stock, False),):
                reset_files()
                union = fresh_centre(county, "stock")
                sample = model_households(household_sheet, union, admin, STOCK_ROWS)
                results.append(stock_import(sample, clean=clean)[0])
        reset_files()
        household_columns, household_tuples = copy_tuples(Household, model_households(household_sheet, county, admin))
        member_columns, member_tuples = copy_tuples(Member, model_members(member_sheet))
        copies = {"households": [], "members": [], "tables": [], "tables without history": []}
        both = [(Household, household_columns, household_tuples), (Member, member_columns, member_tuples)]
        for _ in range(REPEATS):
            copies["households"].append(copy_rows("bench_households", Household._meta.db_table, household_columns,
                                                  household_tuples))
            copies["members"].append(copy_rows("bench_members", Member._meta.db_table, member_columns,
                                               member_tuples))
            copies["tables"].append(copy_into_tables(both, history=True))
            copies["tables without history"].append(copy_into_tables(both, history=False))
        del household_tuples, member_tuples, sheets, household_sheet, member_sheet
        gc.collect()

        stock_rate = len(sample) / statistics.median(stock)
        households, rows = counts["households"], counts["rows"]

        def row(what: str, times: list[float], count: int, households_count: int | None = None,
                baseline: float | None = stock_rate, **extra) -> dict:
            seconds = statistics.median(times)
            rate = count / seconds
            return {"what": what, "runs": len(times), "median s": seconds, "rows": count, "rows/s": rate,
                    "households/s": (households_count / seconds) if households_count else "",
                    "× stock": rate / baseline if baseline else "", **extra}

        rows_out.append(row(f"stock ModelResource, {len(sample):,} households", stock, len(sample), len(sample)))
        rows_out.append(row("stock + clean_model_instances", stock_clean, len(sample), len(sample)))
        rows_out.append(row("COPY households (temp table)", copies["households"], households, households))
        copy_all = [h + m for h, m in zip(copies["households"], copies["members"])]
        rows_out.append(row("COPY households + members", copy_all, rows, households))
        rows_out.append(row("COPY into the tables (keys, history)", copies["tables"], rows, households))
        rows_out.append(row("COPY into the tables, no history", copies["tables without history"], rows, households))
        rows_out.append(row("read: python-calamine", reads["calamine"], rows, baseline=None))
        rows_out.append(row("read: read_workbook (checks)", reads["read_workbook"], rows, baseline=None))
        rows_out.append({"what": "read: openpyxl read-only" + (f" (≈ from {limit:,} rows a sheet)" if limit else ""),
                         "runs": 1, "median s": openpyxl_seconds, "rows": rows, "rows/s": openpyxl_rate,
                         "households/s": "", "× stock": ""})

        # The engine.
        print(f"engine code: {code_version()}")
        previews, imports, reimports, gc_seconds = [], [], [], []
        phases: dict[str, list[dict]] = {"preview": [], "import": [], "re-import": []}
        for repeat in range(REPEATS):
            reset_files()
            gc.collect()
            seconds, report, union, _, steps = engine_run(data, name, county, admin, dry_run=True, label="preview")
            check_import(report, union, counts, dry_run=True, again=False)
            previews.append(seconds)
            phases["preview"].append(steps.seconds())
            seconds, report, union, clock, steps = engine_run(data, name, county, admin, label="import")
            check_import(report, union, counts, dry_run=False, again=False)
            imports.append(seconds)
            phases["import"].append(steps.seconds())
            gc_seconds.append(clock.seconds)
            seconds, report, _, _, steps = engine_run(data, name, county, admin, union=union)
            check_import(report, union, counts, dry_run=False, again=True)
            reimports.append(seconds)
            phases["re-import"].append(steps.seconds())
            print(f"  run {repeat + 1}: preview {previews[-1]:.1f} s, import {imports[-1]:.1f} s "
                  f"(gc {clock.seconds:.1f} s in {clock.collections} collections, {clock.collected:,} objects in "
                  f"cycles freed), re-import {reimports[-1]:.1f} s; load average {os.getloadavg()[0]:.1f}", flush=True)
        for what, runs in phases.items():
            print(f"  {what} phases (medians): {median_phases(runs)}")
        rows_out.append(row("engine: import (skip_invalid)", imports, rows, households))
        rows_out.append(row("engine: preview (dry_run)", previews, rows, households))
        rows_out.append(row("engine: re-import, all unchanged", reimports, rows, households))

    engine = statistics.median(imports)
    print(f"\nstock: {stock_rate:,.0f} household rows/s; engine import: {rows / engine:,.0f} rows/s "
          f"({rows / engine / stock_rate:.1f}× stock, goal 25×), {households / engine:,.0f} household rows/s "
          f"({households / engine / stock_rate:.1f}× stock); preview {statistics.median(previews):.1f} s "
          f"(goal < 60 s); calamine reads {openpyxl_seconds / statistics.median(reads['calamine']):.1f}× faster "
          f"than openpyxl; gc {statistics.median(gc_seconds):.1f} s of the import; peak RSS {peak_rss_mb():,.0f} MB "
          f"(this process, baselines included)")
    if PROFILE:
        with limits():
            profile_import(data, name, county, admin, rows)
    reset_files()
    print(f"\nwhole run {time.perf_counter() - total_started:.0f} s, load average {os.getloadavg()[0]:.1f}")
    return rows_out
