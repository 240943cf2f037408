"""The household list and detail pages on a national-scale register, loaded through COPY.

`generate_register()` builds the regional union tree plus one 帮扶中心 per county and streams
2.5 million households (BENCH_HOUSEHOLDS to scale down) with ~3 members each into PostgreSQL with
COPY, in the status and category mix of a campaign's steady state. `run()` then times the list
page (county caseworker and national admin; default view and a name search) and the detail page
through Django's test client, each against a baseline measured in the same run.

Kept in one module because `./dev bench` runs every bench/<name>.py that has no leading underscore.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime
import os
import random
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from unittest import mock

import pgtrigger
import psycopg
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from psycopg.copy import QueuedLibpqWriter

from dossiers import search
from dossiers.choices import CLOSED_STATUSES, Category, Status
from dossiers.filing import assess_household
from dossiers.models import Household, LocalStandard, Member, RegisterEvent
from hardship import idnumbers
from hardship.fields import encrypt, id_digest
from hardship.management.commands.load_regions import load_regions
from hardship.models import PATH_SEPARATOR, Region, Union, User
from hardship.unions import NATIONAL_CODE, create_regional_unions

HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "2500000"))
SEED = 2026
REPEATS = 20
WARMUP = 3
# A pair whose first run takes longer than this gets SLOW_REPEATS runs after one warm-up, so that
# seconds-long pages at national scale keep the whole run within budget.
SLOW_SECONDS = 0.5
SLOW_REPEATS = 5
DETAIL_SAMPLE = 5  # registered households given events and an assessment, opened by the detail bench

HOUSEHOLD_TABLE, MEMBER_TABLE = Household._meta.db_table, Member._meta.db_table
HOUSEHOLD_COLUMNS = [
    "id", "file_number", "union_id", "region_id", "status", "category", "category_override_reason",
    "head_name", "head_id_number", "head_id_number_digest", "address", "phone", "housing_type", "area_band",
    "single_parent", "zero_employment", "self_reliant", "model_worker", "migrant_worker", "key_group", "legacy_tier",
    "legacy_category", "consent_basis", "bank_name", "bank_branch", "bank_card", "main_cause", "secondary_causes",
    "accident", "exclusions", "income_wages", "income_business", "income_property", "income_transfers",
    "income_other", "cost_illness", "cost_disability", "cost_schooling", "cost_housing", "cost_other",
    "filed_by_id", "reviewed_by_id", "entered_by_id", "previous_episode_id", "notice_ends_on", "registered_on",
    "reverify_due", "closed_on", "follow_up_until", "created_at", "updated_at",
    "receives_dibao", "dibao_amount", "import_batch_id",
    "first_reviewed_by_id", "pending_category", "pending_category_by_id", "register_version",
]
MEMBER_COLUMNS = [
    "id", "household_id", "is_primary", "is_open", "name", "sex", "ethnicity", "relationship", "id_number",
    "id_number_digest", "birth_date", "health", "disability", "health_notes", "medical_insurance", "work_status",
    "able_to_work", "employer", "monthly_income",
]

# Steady state of the campaign (seeds: 5.5M filed, 4.8M exited, 0.64M removed; ~2.47M on file at a
# time): percentages of the files in the system at one moment.
STATUS_MIX = {
    Status.REGISTERED: 55, Status.EXITED: 30, Status.REMOVED: 5, Status.RELIEVED: 2, Status.EXIT_PROPOSED: 1,
    Status.SUBMITTED: 1.0, Status.FIRST_REVIEWED: 1.0, Status.VISITED: 1.0, Status.REVIEWED: 0.8,
    Status.CIVIL_CHECKED: 0.6, Status.IN_NOTICE: 0.6, Status.DRAFT: 1.2, Status.RETURNED: 0.8,
}
CATEGORY_MIX = {Category.DEEP: 25, Category.RELATIVE: 60, Category.ACCIDENT: 15}
CATEGORISED = {Status.REGISTERED, Status.EXIT_PROPOSED, *CLOSED_STATUSES}
IN_REVIEW = {Status.SUBMITTED, Status.FIRST_REVIEWED, Status.VISITED, Status.REVIEWED, Status.CIVIL_CHECKED,
             Status.IN_NOTICE, Status.DRAFT, Status.RETURNED}
REVIEWED_ONWARDS = {Status.REVIEWED, Status.CIVIL_CHECKED, Status.IN_NOTICE, *CATEGORISED}
MEMBER_COUNTS = {2: 35, 3: 40, 4: 15, 5: 10}  # mean 3.0

# Surnames by rough share of the population (per mille, 2020 census order); the rest share the tail.
SURNAMES = {
    "王": 71, "李": 70, "张": 67, "刘": 54, "陈": 46, "杨": 31, "黄": 23, "赵": 22, "吴": 20, "周": 19,
    "徐": 15, "孙": 15, "马": 14, "朱": 13, "胡": 12, "郭": 12, "何": 11, "林": 11, "高": 11, "罗": 10,
    "郑": 9, "梁": 9, "谢": 8, "宋": 7, "唐": 7, "许": 7, "韩": 7, "冯": 7, "邓": 7, "曹": 6, "彭": 6,
    "曾": 6, "肖": 6, "田": 6, "董": 5, "袁": 5, "潘": 5, "于": 5, "蒋": 5, "蔡": 5, "余": 5, "杜": 5,
    "叶": 5, "程": 5, "苏": 4, "魏": 4, "吕": 4, "丁": 4, "任": 4, "沈": 4,
}
TAIL_SURNAMES = "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN_FIRST = "建国志明秀桂丽海红卫淑振玉春文晓金德永小宇子欣雨俊佳家天嘉思浩梓一博雅凤兰军伟平"
GIVEN_SECOND = "华军平英兰芳强明杰丽敏静涛燕霞刚勇峰辉红梅娟玲林斌波鹏飞洋磊超婷雪琳轩涵怡宁晨然"
STREETS = ["建设路", "人民路", "解放路", "中山路", "和平路", "胜利路", "文化路", "新华路", "工业路", "友谊路",
           "光明路", "幸福路", "团结路", "跃进路", "纺织路", "矿工路", "钢城路", "铁路街", "北京路", "长江路"]
BANKS = ["中国工商银行", "中国农业银行", "中国银行", "中国建设银行", "中国邮政储蓄银行", "农村信用合作社"]
EMPLOYERS = ["纺织厂", "机械厂", "煤矿", "钢铁公司", "化肥厂", "公交公司", "环卫所", "建筑公司", "物业公司", "商贸公司"]
ETHNICITY = {"汉族": 91, "壮族": 1.3, "回族": 0.8, "满族": 0.8, "维吾尔族": 0.8, "苗族": 0.8, "彝族": 0.7,
             "土家族": 0.7, "藏族": 0.5, "蒙古族": 0.5, "侗族": 0.2, "布依族": 0.2, "瑶族": 0.2, "白族": 0.2,
             "朝鲜族": 0.1, "哈萨克族": 0.1}
CAUSE_MIX = {1: 8, 2: 6, 3: 14, 4: 3, 5: 4, 6: 38, 7: 3, 8: 6, 9: 12, 10: 6}
HOUSING_MIX = {"own": 55, "public_rental": 10, "low_rent": 8, "private_rental": 17, "borrowed": 7, "other": 3}
AREA_MIX = {"under_15": 35, "15_30": 45, "30_50": 15, "over_50": 5}
KEY_GROUP_MIX = {"": 70, "aided_still_hard": 8, "near_line": 7, "illness": 10, "disaster": 2, "migrant": 3}
PROFILE = {  # (annual wages, annual transfers, annual illness costs) by category, in yuan
    Category.DEEP: (12_000, 6_000, 8_000), Category.RELATIVE: (36_000, 3_000, 4_000),
    Category.ACCIDENT: (30_000, 2_000, 40_000), "": (24_000, 3_000, 6_000),
}

ID_BLOCK = 64  # birth dates of a county's members are spread over 64 residues; see Ids
CONSENT = "本人签字的申请书和家庭经济状况核对授权书"
DAY = 86_400.0
HEAD_BORN_FROM = datetime.date(1961, 1, 1).toordinal()
EPOCH = datetime.date(1970, 1, 1).toordinal()  # day ordinal of a UTC timestamp: ts // DAY + EPOCH


def weighted(mix: dict) -> tuple[list, list[float]]:
    # Plain strings, not the choices' enum members: psycopg would write an Enum by its name.
    values, weights = [getattr(value, "value", value) for value in mix], list(mix.values())
    total, running, cumulative = sum(weights), 0.0, []
    for weight in weights:
        running += weight
        cumulative.append(running / total)
    return values, cumulative


class Picker:
    """rng-driven weighted choice with a precomputed cumulative table (random.choices is slower per call)."""

    def __init__(self, rng: random.Random, mix: dict) -> None:
        self.values, self.cumulative = weighted(mix)
        self.random, self.last = rng.random, len(self.values) - 1

    def __call__(self):
        return self.values[min(bisect.bisect(self.cumulative, self.random()), self.last)]


class Ids:
    """Valid, unique 公民身份号码 for a county's members, from a per-county counter n.

    seq = n % 500 and the birth date is moved (at most 63 days) so that its ordinal ≡ n // 500
    (mod 64): two members of a county share a seq only if their n differ by a multiple of 500, and
    then their birth dates differ. Unique up to 32,000 members a county; the region code makes it
    unique across counties.
    """

    def __init__(self, counties: int) -> None:
        self.next = [0] * counties
        self.digits: dict[int, tuple[datetime.date, str]] = {}

    def issue(self, county: int, region: str, ordinal: int, male: bool) -> tuple[str, datetime.date]:
        n = self.next[county]
        self.next[county] = n + 1
        block = n // 500
        if block >= ID_BLOCK:
            raise RuntimeError(f"county {region} has more than {500 * ID_BLOCK} members: IDs would repeat")
        ordinal += (block - ordinal) % ID_BLOCK
        cached = self.digits.get(ordinal)
        if cached is None:
            day = datetime.date.fromordinal(ordinal)
            cached = self.digits[ordinal] = (day, f"{day.year:04d}{day.month:02d}{day.day:02d}")
        first17 = f"{region}{cached[1]}{(n % 500) * 2 + male:03d}"
        return first17 + idnumbers.check_character(first17), cached[0]


# --- building the register ------------------------------------------------------------------


def build_unions() -> list[Union]:
    """Regions, regional unions and one help centre per county; returns the help centres."""
    with pgtrigger.ignore("hardship.Union:insert_insert"), transaction.atomic():
        load_regions()
        create_regional_unions()
        centres = [
            Union(code=f"{county.code}-C01", name=f"{county.name}困难职工帮扶中心", kind=Union.Kind.HELP_CENTRE,
                  region_id=county.region_id, parent_id=county.pk,
                  path=f"{county.path}{county.code}-C01{PATH_SEPARATOR}", depth=county.depth + 1)
            for county in Union.objects.filter(kind=Union.Kind.COUNTY).order_by("code")
        ]
        Union.objects.bulk_create(centres, batch_size=1000)
    return list(Union.objects.filter(kind=Union.Kind.HELP_CENTRE).select_related("region").order_by("code"))


def table_schema(table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """(unique constraints, plain indexes, foreign keys) of a table, as (name, definition)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY conname", [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            """SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE i.indrelid = %s::regclass AND NOT EXISTS (
                   SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                   AND k.contype IN ('p', 'u', 'x'))
               ORDER BY c.relname""", [table],
        )
        indexes = cursor.fetchall()
    return ([(n, d) for n, t, d in constraints if t == "u"], indexes, [(n, d) for n, t, d in constraints if t == "f"])


def drop_secondary_structures(schemas: dict) -> None:
    """Drop every index but the primary key, and the unique and foreign-key constraints: building
    them once after the load is several times faster than maintaining them row by row."""
    with transaction.atomic(), connection.cursor() as cursor:
        for table, (uniques, indexes, foreign_keys) in schemas.items():
            for name, _ in foreign_keys + uniques:
                cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            # The pghistory insert triggers would write a history row per row loaded (see below).
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')


def restore_secondary_structures(schemas: dict) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for table, (uniques, indexes, _foreign_keys) in schemas.items():
            for name, definition in uniques:
                cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
            for _, definition in indexes:
                cursor.execute(definition)
        for table, (_, _, foreign_keys) in schemas.items():
            for name, definition in foreign_keys:  # validated here, in one join each
                cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for table in schemas:
            cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
    restored = {table: table_schema(table) for table in schemas}
    if restored != schemas:
        raise RuntimeError(f"schema after the load differs from the migrated one: {restored} != {schemas}")


def check_columns() -> None:
    for model, columns in ((Household, HOUSEHOLD_COLUMNS), (Member, MEMBER_COLUMNS)):
        expected = {field.column for field in model._meta.concrete_fields}
        if set(columns) != expected:
            raise RuntimeError(f"{model.__name__}: COPY columns {sorted(set(columns) ^ expected)} "
                               "out of step with the model")


def side_connection() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"],
                           password=db["PASSWORD"] or None, dbname=db["NAME"])


def plan_households(rng: random.Random, households: int, end: float) -> tuple[list[str], list[float]]:
    """Statuses and creation times, in creation order (ids follow filing order, as in production)."""
    statuses, cumulative = weighted(STATUS_MIX)
    drawn = [statuses[min(bisect.bisect(cumulative, rng.random()), len(statuses) - 1)] for _ in range(households)]
    start = datetime.datetime(2016, 1, 1, tzinfo=datetime.UTC).timestamp()
    created = []
    for status in drawn:
        if status in IN_REVIEW:
            created.append(end - rng.random() * 120 * DAY)
        elif status in CLOSED_STATUSES:
            created.append(start + rng.random() * (end - 400 * DAY - start))
        else:
            created.append(start + rng.random() * (end - 60 * DAY - start))
    order = sorted(range(households), key=created.__getitem__)
    return [drawn[i] for i in order], [created[i] for i in order]


def generate_register(households: int = HOUSEHOLDS, members_per_household: float = 3.0) -> dict:
    """Fill the (empty, migrated) database with a register; returns counts and timings."""
    if abs(members_per_household - 3.0) > 1e-9:
        raise ValueError("the member-count mix (2–5, weights 35/40/15/10) gives 3.0 a household")
    check_columns()
    timings = {}
    started = time.perf_counter()
    centres = build_unions()
    filer = User.objects.create_user("bench_filer", role="caseworker", home_union=centres[0], full_name="建档员")
    reviewer = User.objects.create_user("bench_reviewer", role="caseworker", home_union=centres[0],
                                        full_name="审核员")
    timings["unions and users"] = time.perf_counter() - started

    started = time.perf_counter()
    rng = random.Random(SEED)
    end = time.time()
    statuses, created = plan_households(rng, households, end)
    county_weights = [rng.lognormvariate(0, 0.6) for _ in centres]  # uneven counties, mean ~1.2
    county_of = rng.choices(range(len(centres)), weights=county_weights, k=households)
    timings["plan"] = time.perf_counter() - started

    schemas = {table: table_schema(table) for table in (HOUSEHOLD_TABLE, MEMBER_TABLE)}
    drop_secondary_structures(schemas)
    started = time.perf_counter()
    members = copy_register(rng, centres, statuses, created, county_of, end, filer.pk, reviewer.pk)
    timings["COPY"] = time.perf_counter() - started

    started = time.perf_counter()
    restore_secondary_structures(schemas)
    with connection.cursor() as cursor:
        for table in (HOUSEHOLD_TABLE, MEMBER_TABLE):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    timings["indexes and keys"] = time.perf_counter() - started

    started = time.perf_counter()
    history_rows = write_insert_history()
    timings["history rows"] = time.perf_counter() - started

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in (HOUSEHOLD_TABLE, MEMBER_TABLE, Household.pgh_event_model._meta.db_table,
                      Member.pgh_event_model._meta.db_table, Union._meta.db_table):
            cursor.execute(f"VACUUM ANALYZE {table}")
    timings["VACUUM ANALYZE"] = time.perf_counter() - started
    return {"households": households, "members": members, "history_rows": history_rows, "timings": timings,
            "counties": len(centres)}


def copy_register(rng, centres, statuses, created, county_of, end, filer_id, reviewer_id) -> int:
    """Stream households (Django's connection) and members (a second connection) in one pass."""
    surname_pick, tail = Picker(rng, SURNAMES), TAIL_SURNAMES
    status_categories = Picker(rng, CATEGORY_MIX)
    pick_count, pick_cause = Picker(rng, MEMBER_COUNTS), Picker(rng, CAUSE_MIX)
    pick_housing, pick_area, pick_key = Picker(rng, HOUSING_MIX), Picker(rng, AREA_MIX), Picker(rng, KEY_GROUP_MIX)
    pick_ethnicity = Picker(rng, ETHNICITY)
    # int(rand() * n) rather than randrange(n) / choice(seq): a tenth of the cost, which matters
    # at ~40 draws a household.
    rand = rng.random

    def randrange(n: int) -> int:
        return int(rand() * n)

    def choice(seq):
        return seq[int(rand() * len(seq))]

    first_chars, second_chars = GIVEN_FIRST, GIVEN_SECOND

    def person_name(surname: str) -> str:
        if rand() < 0.2:
            return surname + choice(second_chars)
        return surname + choice(first_chars) + choice(second_chars)

    def family_name() -> str:
        return surname_pick() if rand() < 0.85 else choice(tail)

    ids = Ids(len(centres))
    file_seq = [0] * len(centres)
    regions = [centre.region_id for centre in centres]
    county_names = [centre.region.name for centre in centres]
    today_ordinal = datetime.date.fromtimestamp(end).toordinal()
    utc = datetime.UTC
    fromtimestamp = datetime.datetime.fromtimestamp
    fromordinal = datetime.date.fromordinal
    household_sql = f"COPY {HOUSEHOLD_TABLE} ({', '.join(HOUSEHOLD_COLUMNS)}) FROM STDIN (FREEZE)"
    member_sql = f"COPY {MEMBER_TABLE} ({', '.join(MEMBER_COLUMNS)}) FROM STDIN"
    households = len(statuses)
    member_id = 0
    progress_every = max(households // 10, 1)
    started = time.perf_counter()

    side = side_connection()
    try:
        connection.ensure_connection()
        with transaction.atomic():
            raw = connection.connection  # the psycopg connection under Django's transaction
            # FREEZE needs the table truncated in this transaction, with every table referencing it,
            # directly or through another (payments, then their discrepancies): all empty in the fresh
            # bench database (checked), except members, whose foreign key is dropped for the load.
            referencing = [row[0] for row in raw.execute(
                "WITH RECURSIVE r(t) AS (SELECT %s::regclass UNION SELECT c.conrelid FROM pg_constraint c"
                " JOIN r ON c.confrelid = r.t WHERE c.contype = 'f')"
                " SELECT t::regclass::text FROM r WHERE t <> %s::regclass ORDER BY 1",
                [HOUSEHOLD_TABLE, HOUSEHOLD_TABLE]).fetchall()]
            for table in referencing:
                if raw.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]:
                    raise RuntimeError(f"{table} is not empty: the register bench needs a fresh database")
            raw.execute("SET LOCAL synchronous_commit = off")
            raw.execute(f"TRUNCATE {', '.join([HOUSEHOLD_TABLE, *referencing])}")
            side.execute("SET synchronous_commit = off")
            # Members load without FREEZE: civil-roster entries reference them, and only the household
            # connection may truncate that table (it references households too).
            if side.execute(f"SELECT EXISTS (SELECT 1 FROM {MEMBER_TABLE})").fetchone()[0]:
                raise RuntimeError(f"{MEMBER_TABLE} is not empty: the register bench needs a fresh database")
            # Queued writers send from a thread, so generating rows overlaps the server's work.
            household_cursor, member_cursor = raw.cursor(), side.cursor()
            with household_cursor.copy(household_sql, writer=QueuedLibpqWriter(household_cursor)) as household_copy, \
                    member_cursor.copy(member_sql, writer=QueuedLibpqWriter(member_cursor)) as member_copy:
                write_household, write_member = household_copy.write_row, member_copy.write_row
                for index in range(households):
                    household_id = index + 1
                    status = statuses[index]
                    created_ts = created[index]
                    county = county_of[index]
                    region = regions[county]
                    category = status_categories() if status in CATEGORISED else ""
                    is_open = status not in CLOSED_STATUSES

                    # The register's dates follow the status (see STATUS_MIX for the mix).
                    created_day = int(created_ts // DAY) + EPOCH  # ordinal of the UTC date
                    registered_on = notice_ends_on = reverify_due = closed_on = follow_up_until = None
                    if status in CATEGORISED:
                        registered = created_day + 30 + randrange(45)
                        registered_on = fromordinal(registered)
                        notice_ends_on = fromordinal(registered - 1)
                        if status in CLOSED_STATUSES:
                            closed = min(registered + 180 + randrange(5 * 365), today_ordinal - 1)
                            closed_on = fromordinal(closed)
                            updated_ts = (closed - EPOCH) * DAY + 3600 + rand() * 30000
                            if status != Status.REMOVED:
                                follow_up_until = fromordinal(closed + 365)
                        else:
                            recent = end - rand() * (30 if status == Status.EXIT_PROPOSED else 365) * DAY
                            updated_ts = max((registered - EPOCH) * DAY + 3600, recent)
                            reverify_due = fromordinal(int(updated_ts // DAY) + EPOCH + 365)
                    else:
                        updated_ts = created_ts + rand() * (end - created_ts)
                        if status == Status.IN_NOTICE:
                            notice_ends_on = fromordinal(int(updated_ts // DAY) + EPOCH + 7)

                    # Members: the primary worker first; IDs unique within the county (see Ids).
                    count = pick_count()
                    surname = family_name()
                    head_male = rand() < 0.55
                    head_birth = HEAD_BORN_FROM + randrange(13_500)  # 1961 … 1997
                    head_name = person_name(surname)
                    head_id, head_birth_date = ids.issue(county, region, head_birth, head_male)
                    wages, transfers, illness = PROFILE[category]
                    employed = rand() < 0.6
                    household_members = [(head_name, head_male, "self", head_id, head_birth_date,
                                          "employed" if employed else "laid_off", employed)]
                    for position in range(1, count):
                        if position == 1 and rand() < 0.85:
                            relationship, male = "spouse", not head_male
                            birth = head_birth - 1500 + randrange(3000)
                            name, work = person_name(family_name()), "employed" if rand() < 0.4 else "unemployed"
                        elif rand() < 0.8:
                            relationship, male = "child", rand() < 0.5
                            birth = min(head_birth + 7300 + randrange(5000), today_ordinal - 400)
                            age = (today_ordinal - birth) // 365
                            name = person_name(surname)
                            work = "preschool" if age < 6 else "student" if age < 22 else "employed"
                        else:
                            relationship, male = "parent", rand() < 0.5
                            birth = head_birth - 9500 - randrange(4000)
                            name, work = person_name(family_name()), "retired"
                        id_number, birth_date = ids.issue(county, region, birth, male)
                        household_members.append((name, male, relationship, id_number, birth_date, work,
                                                  work == "employed"))

                    file_seq[county] += 1
                    created_at = fromtimestamp(created_ts, utc)
                    # The two array columns as PostgreSQL array literals: psycopg's list dumper
                    # costs ~5 µs a value, a minute at national scale.
                    main_cause = pick_cause()
                    secondary = 1 + randrange(10)
                    secondary = "{}" if rand() < 0.4 or secondary == main_cause else f"{{{secondary}}}"
                    write_household((
                        household_id,
                        f"{region}-{created_at.year}-{file_seq[county]:06d}",
                        centres[county].pk, region, status, category, "",
                        head_name, encrypt(head_id), id_digest(head_id),
                        f"{county_names[county]}{choice(STREETS)}{1 + randrange(300)}号院{1 + randrange(20)}号楼"
                        f"{1 + randrange(6)}单元{1 + randrange(30):02d}{1 + randrange(4):02d}室",
                        f"1{30 + randrange(60)}{randrange(10**8):08d}",
                        pick_housing(), pick_area(),
                        rand() < 0.12, rand() < 0.08, rand() < 0.3, "" if rand() < 0.995 else "city",
                        rand() < 0.1, pick_key(), "", "", CONSENT,
                        choice(BANKS), f"{county_names[county]}支行", "",  # bank_card '' skips encryption
                        main_cause, secondary, category == Category.ACCIDENT, "{}",
                        f"{wages + randrange(8000)}.00", "0.00", "0.00", f"{transfers + randrange(2000)}.00", "0.00",
                        f"{illness + randrange(4000)}.00", "0.00", f"{randrange(3000)}.00", "0.00", "0.00",
                        filer_id, reviewer_id if status in REVIEWED_ONWARDS else None, filer_id, None,
                        notice_ends_on, registered_on, reverify_due, closed_on, follow_up_until,
                        created_at, fromtimestamp(updated_ts, utc),
                        False, "0.00", None,
                        None, "", None, 0,
                    ))
                    for position, (name, male, relationship, id_number, birth_date, work, earns) in enumerate(
                            household_members):
                        member_id += 1
                        write_member((
                            member_id, household_id, position == 0, is_open, name, "M" if male else "F",
                            pick_ethnicity(), relationship, encrypt(id_number), id_digest(id_number), birth_date,
                            "healthy" if rand() < 0.7 else "chronic", "", "", "employee" if earns else "resident",
                            work, work not in ("preschool", "student", "retired"),
                            choice(EMPLOYERS) if earns else "", f"{1800 + randrange(2500)}.00" if earns else "0.00",
                        ))
                    if household_id % progress_every == 0:
                        elapsed = time.perf_counter() - started
                        print(f"  … {household_id:,} households, {member_id:,} members, {elapsed:.0f} s", flush=True)
            side.commit()
    finally:
        side.close()
    return member_id


def write_insert_history() -> int:
    """The 'insert' history rows that pghistory's triggers would have written for every household
    and member, set-based, so the detail page's history query reads tables of national size."""
    household_events, member_events = Household.pgh_event_model._meta.db_table, Member.pgh_event_model._meta.db_table
    schemas = {table: table_schema(table) for table in (household_events, member_events)}
    drop_secondary_structures(schemas)
    household_columns = ", ".join(HOUSEHOLD_COLUMNS)
    member_columns = ", ".join(MEMBER_COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {household_events} ({household_columns}, pgh_created_at, pgh_label, pgh_obj_id)"
            f" SELECT {household_columns}, created_at, 'insert', id FROM {HOUSEHOLD_TABLE} ORDER BY id"
        )
        written = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {member_events} ({member_columns}, pgh_created_at, pgh_label, pgh_obj_id)"
            f" SELECT {', '.join(f'm.{c}' for c in MEMBER_COLUMNS)}, h.created_at, 'insert', m.id"
            f" FROM {MEMBER_TABLE} m JOIN {HOUSEHOLD_TABLE} h ON h.id = m.household_id ORDER BY m.id"
        )
        written += cursor.rowcount
    restore_secondary_structures(schemas)
    return written


# --- fixtures for the pages -----------------------------------------------------------------

LIFECYCLE = [
    ("submit", Status.DRAFT, Status.SUBMITTED), ("first_review", Status.SUBMITTED, Status.FIRST_REVIEWED),
    ("record_visit", Status.FIRST_REVIEWED, Status.VISITED), ("review", Status.VISITED, Status.REVIEWED),
    ("record_civil_check", Status.REVIEWED, Status.CIVIL_CHECKED),
    ("start_notice", Status.CIVIL_CHECKED, Status.IN_NOTICE), ("finish_notice", Status.IN_NOTICE, Status.REGISTERED),
]


def detail_households(centre: Union, filer: User) -> list[Household]:
    """A few registered households of the county, given their register events and an assessment."""
    sample = list(Household.objects.filter(union=centre, status=Status.REGISTERED).order_by("-updated_at")[
        :DETAIL_SAMPLE])
    province = Region.objects.get(code=f"{centre.region_id[:2]}0000")
    LocalStandard.objects.get_or_create(region=province, effective_from=datetime.date(2016, 1, 1), defaults={
        "poverty_line": "750.00", "min_wage": "1900.00", "source": "基准测试"})
    for household in sample:
        if household.register_events.exists():  # given them by the run that kept this database
            continue
        start = datetime.datetime.combine(household.registered_on, datetime.time(9), tzinfo=datetime.UTC)
        RegisterEvent.objects.bulk_create([
            RegisterEvent(household=household, transition=name, from_status=source, to_status=target, actor=filer,
                          at=start - datetime.timedelta(days=6 * (len(LIFECYCLE) - step)),
                          reason="材料齐全" if name == "record_civil_check" else "")
            for step, (name, source, target) in enumerate(LIFECYCLE, 1)
        ])
        assess_household(household, by=filer, final_category=household.category,
                         override_reason="基准测试：沿用入档时确定的类别")
    return sample


def common_full_name() -> str:
    """The full name most members share nationally (e.g. 王波): a search that matches members by the thousand."""
    return Member.objects.values("name").annotate(n=Count("pk")).order_by("-n").values_list("name", flat=True)[0]


def name_prefix(centre: Union) -> str:
    """The commonest surname + first given character among the county's heads (e.g. 王建)."""
    heads = Household.objects.filter(union=centre).values_list("head_name", flat=True)
    counts = Counter(name[:2] for name in heads if len(name) == 3)
    return counts.most_common(1)[0][0]


# --- timing ---------------------------------------------------------------------------------


def naive_paginate(queryset: QuerySet, page_number: int) -> search.Page:
    """paginate() with an exact count, as a Django Paginator would do it."""
    start = (max(1, page_number) - 1) * search.PAGE_SIZE
    rows = list(queryset[start:start + search.PAGE_SIZE])
    total = queryset.order_by().count()
    return search.Page(rows=rows, number=max(1, page_number), total=total, capped=False)


def contains_search(queryset: QuerySet, text: str) -> QuerySet:
    """_apply_search's name branch with LIKE '%x%' (no index can serve it) instead of LIKE 'x%'."""
    text = text.strip()
    if not text:
        return queryset
    return queryset.filter(
        Q(head_name__contains=text) | Q(pk__in=Member.objects.filter(name=text).values("household_id"))
    )


def no_select_related(self, *fields):
    return self


def measure(pairs: list[tuple[str, Callable[[], object]]]) -> tuple[dict[str, tuple[float, int]], int]:
    """Median ms of each callable, interleaved after a warm-up, and its query count; and the runs."""
    queries, first = {}, 0.0
    for label, fn in pairs:
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            fn()
        first = max(first, time.perf_counter() - started)
        queries[label] = len(captured.captured_queries)
    warmup, repeats = (1, SLOW_REPEATS) if first > SLOW_SECONDS else (WARMUP, REPEATS)
    for _ in range(warmup):
        for _, fn in pairs:
            fn()
    times = {label: [] for label, _ in pairs}
    for _ in range(repeats):
        for label, fn in pairs:
            started = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - started)
    return {label: (statistics.median(times[label]) * 1000, queries[label]) for label, _ in pairs}, repeats


def searched(client: Client, text: str) -> str:
    response = client.post(reverse("dossiers:list"), {"q": text})
    if response.status_code != 302:
        raise AssertionError(f"search {text}: {response.status_code}")
    return response["Location"]


def getter(client: Client, url: str, *patches) -> Callable[[], object]:
    def get():
        with contextlib.ExitStack() as stack:
            for patch in patches:
                stack.enter_context(patch)
            response = client.get(url)
        if response.status_code != 200:
            raise AssertionError(f"GET {url}: {response.status_code}")
        return response
    return get


def explain(label: str, fn: Callable[[], object], match: str) -> None:
    """EXPLAIN ANALYZE of the page's first query containing `match`, exactly as the page sent it."""
    with CaptureQueriesContext(connection) as captured:
        fn()
    sql = next((q["sql"] for q in captured.captured_queries if match in q["sql"]), None)
    if sql is None:  # e.g. no count for a page that holds every match
        print(f"\nEXPLAIN ANALYZE — {label}: the page sent no such query")
        return
    if sql.startswith("SELECT set_config("):  # pghistory's context prefix: a second statement
        sql = sql.split("; ", 1)[1]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}")
        lines = [row[0] for row in cursor.fetchall()]
    print(f"\nEXPLAIN ANALYZE — {label}:")
    for line in lines:
        if not line.strip().startswith(("Index Searches:", "Buffers:")):
            print(f"    {line}")


def slowest_queries(label: str, fn: Callable[[], object], count: int = 4) -> None:
    """Server time of the page's slowest queries (EXPLAIN ANALYZE execution time)."""
    with CaptureQueriesContext(connection) as captured:
        fn()
    timed = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if sql.startswith("SELECT set_config("):
                sql = sql.split("; ", 1)[1]
            if not sql.startswith(("SELECT", "WITH")):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) {sql}")
            plan = [row[0] for row in cursor.fetchall()]
            ms = float(next(line for line in plan if line.startswith("Execution Time")).split()[2])
            tables = sorted({word.strip('"') for word in sql.split()
                             if word.strip('"(').startswith(("dossiers_", "hardship_", "django_")) and "." not in word})
            timed.append((ms, ", ".join(tables)[:90]))
    print(f"\n{label}: {len(timed)} queries, {sum(ms for ms, _ in timed):.1f} ms executing in total; slowest:")
    for ms, tables in sorted(timed, reverse=True)[:count]:
        print(f"    {ms:7.2f} ms  {tables}")


def reused_register() -> dict | None:
    """The counts of a register an earlier `--keep` run left, when `--reuse` asks for it."""
    if not os.environ.get("BENCH_REUSE") or not Household.objects.exists():
        return None
    return {"households": Household.objects.count(), "members": Member.objects.count(),
            "counties": Union.objects.filter(kind=Union.Kind.HELP_CENTRE).count()}


def bench_user(username: str, **fields) -> User:
    """The bench's user, made or (on --reuse) brought up to date: their sign-ins are in the append-only access
    record, so they are kept, not deleted."""
    user, _created = User.objects.update_or_create(username=username, defaults=fields)
    return user


def generated_register() -> dict:
    started = time.perf_counter()
    print(f"generating {HOUSEHOLDS:,} households …", flush=True)
    stats = generate_register(HOUSEHOLDS)
    generation = time.perf_counter() - started
    rows_loaded = stats["households"] + stats["members"]
    print(f"data: {stats['households']:,} households, {stats['members']:,} members, "
          f"{stats['counties']:,} counties (one 帮扶中心 each), {stats['history_rows']:,} history rows")
    print(f"generated in {generation:.1f} s ({rows_loaded / stats['timings']['COPY']:,.0f} rows/s during COPY): "
          + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in stats["timings"].items()))
    return stats


def commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return head.stdout.strip() + (" with uncommitted changes" if dirty.stdout.strip() else "")


def run() -> list[dict]:
    total_started = time.perf_counter()
    print(f"code: {commit()}")
    stats = reused_register()
    if stats:
        print(f"reusing the kept register: {stats['households']:,} households, {stats['members']:,} members")
    else:
        stats = generated_register()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database())),"
                       " pg_size_pretty(pg_total_relation_size(%s)), pg_size_pretty(pg_total_relation_size(%s))",
                       [HOUSEHOLD_TABLE, MEMBER_TABLE])
        database_size, household_size, member_size = cursor.fetchone()
        cursor.execute(f"SELECT status, count(*) FROM {HOUSEHOLD_TABLE} GROUP BY 1 ORDER BY 2 DESC")
        mix = cursor.fetchall()
    print(f"size: database {database_size}, households {household_size}, members {member_size} (with indexes)")
    print("statuses: " + ", ".join(f"{status} {count / stats['households']:.1%}" for status, count in mix))

    # The busiest county: the scope a county caseworker sees.
    centre = (Union.objects.filter(kind=Union.Kind.HELP_CENTRE)
              .annotate(n=Count("households")).order_by("-n").first())
    national = Union.objects.get(code=NATIONAL_CODE)
    caseworker = bench_user("bench_caseworker", role="caseworker", home_union=centre)
    # A national supervisor: the national administrator runs accounts and opens no file (三员分立).
    admin = bench_user("bench_admin", role="supervisor", home_union=national)
    filer = User.objects.get(username="bench_filer")
    sample = detail_households(centre, filer)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    prefix = name_prefix(centre)
    county_size = Household.objects.filter(union=centre).count()
    county_matches = Household.objects.filter(union=centre, head_name__startswith=prefix).count()
    national_matches = Household.objects.filter(head_name__startswith=prefix).count()
    full_name = common_full_name()
    full_name_matches = {scope: Household.objects.filter(Q(head_name__startswith=full_name) | Q(
        pk__in=Member.objects.filter(name=full_name).values("household_id")), **lookup).count()
        for scope, lookup in (("county", {"union": centre}), ("national", {}))}
    print(f"county: {centre.name} ({centre.code}), {county_size:,} households; search q={prefix}: "
          f"{county_matches:,} in the county, {national_matches:,} nationally")
    print(f"search q={full_name} (a common full name, {Member.objects.filter(name=full_name).count():,} members):"
          f" {full_name_matches['county']:,} households in the county, {full_name_matches['national']:,} nationally")
    print(f"timing: median of {REPEATS} runs after {WARMUP} warm-up ({SLOW_REPEATS} after 1 for pages over"
          f" {SLOW_SECONDS} s), page and baseline interleaved; ms = Django test client GET, DEBUG off;"
          f" load average {os.getloadavg()[0]:.1f}")

    list_url = reverse("dossiers:list")
    detail_url = reverse("dossiers:detail", args=[sample[0].file_number])
    exact_count = mock.patch("dossiers.views.paginate", naive_paginate)
    contains = mock.patch("dossiers.search._apply_search", contains_search)
    lazy = mock.patch.object(QuerySet, "select_related", no_select_related)

    rows = []
    clients = {}
    for user in (caseworker, admin):
        clients[user.pk] = Client(HTTP_HOST="localhost")
        clients[user.pk].force_login(user)
    # The search form posts its text and the list is then asked for by the token it answers with (the same
    # token for the page and its baseline: both read the search from the session).
    county_search, county_full_name = (searched(clients[caseworker.pk], text) for text in (prefix, full_name))
    national_search, national_full_name = (searched(clients[admin.pk], text) for text in (prefix, full_name))
    # A search by ID number goes by its keyed digest; the baseline finds the same member by primary key.
    person = Member.objects.filter(household=sample[0], is_primary=False).first() or sample[0].members.first()
    id_search = searched(clients[admin.pk], person.id_number)
    by_pk = mock.patch("dossiers.search._apply_search", lambda queryset, _text: queryset.filter(
        pk__in=Member.objects.filter(pk=person.pk).values("household_id")))
    cases = [
        ("list", "county", caseworker, list_url, "exact count", (exact_count,), county_size),
        ("list q=" + prefix, "county", caseworker, county_search, "LIKE '%x%'", (contains,), county_matches),
        ("list q=" + full_name, "county", caseworker, county_full_name, "LIKE '%x%'", (contains,),
         full_name_matches["county"]),
        ("list", "national", admin, list_url, "exact count", (exact_count,), stats["households"]),
        ("list q=" + prefix, "national", admin, national_search, "LIKE '%x%'", (contains,), national_matches),
        ("list q=" + full_name, "national", admin, national_full_name, "LIKE '%x%'", (contains,),
         full_name_matches["national"]),
        ("list q=ID " + person.masked_id_number[-4:], "national", admin, id_search, "member by pk", (by_pk,), 1),
        ("detail", "county", caseworker, detail_url, "no select_related", (lazy,), 1),
    ]
    for page, scope, user, url, baseline, patches, matches in cases:
        client = clients[user.pk]
        ours, theirs = getter(client, url), getter(client, url, *patches)
        result, runs = measure([("ours", ours), ("baseline", theirs)])
        (ms, queries), (baseline_ms, baseline_queries) = result["ours"], result["baseline"]
        rows.append({
            "page": page, "scope": scope, "rows": matches, "ms": ms, "baseline": baseline,
            "baseline ms": baseline_ms, "ratio": baseline_ms / ms, "queries": queries,
            "baseline queries": baseline_queries, "runs": runs,
        })
    explain("county list, default view (rows)", getter(clients[caseworker.pk], list_url), "LIMIT 25")
    explain("national list, default view (rows)", getter(clients[admin.pk], list_url), "LIMIT 25")
    explain(f"national list, q={prefix} (rows)", getter(clients[admin.pk], national_search), "LIMIT 25")
    explain(f"national list, q={prefix} (capped count)", getter(clients[admin.pk], national_search), "COUNT(*)")
    explain(f"county list, q={prefix} (rows)", getter(clients[caseworker.pk], county_search), "LIMIT 25")
    explain(f"county list, q={full_name} (rows)", getter(clients[caseworker.pk], county_full_name), "LIMIT 25")
    explain(f"national list, q={full_name} (rows)", getter(clients[admin.pk], national_full_name), "LIMIT 25")
    slowest_queries("detail page", getter(clients[caseworker.pk], detail_url))
    print(f"\nwhole run {time.perf_counter() - total_started:.0f} s, load average {os.getloadavg()[0]:.1f}")
    return rows
