"""The sealed dialect: a register kept by one office, laid out its own way (not read by the engine's authors until
the end). Built from the same invented households as the other dialects; see the package docstring."""

from __future__ import annotations

import datetime
import random

from tests.dossiers.registers import (
    CADRES,
    CAUSE_NAMES,
    RELATION_WORDS,
    Cell,
    Entry,
    Grid,
    Ledger,
    Person,
    Plan,
    Population,
    Register,
    dialect,
    pick,
    plan_entries,
    render,
    rng_for,
    sex_word,
)

NAME = "sealed"
ON = datetime.date(2019, 3, 15)
STREET_CODES = {"林山寨街道": "LSZ", "建设路街道": "JSL", "棉纺路街道": "MFL", "秦岭路街道": "QLL",
                "三官庙街道": "SGM", "汝河路街道": "RHL"}
WORDS = {**RELATION_WORDS, "wife": ("配偶", "妻"), "husband": ("配偶", "夫"), "son": ("子", "儿子"),
         "daughter": ("女", "女儿"), "father": ("父", "父亲"), "mother": ("母", "母亲")}
HEADERS = ["户编号", "人员类别", "姓名", "与职工关系", "性别", "身份证件号", "年龄", "婚姻状况", "现住址",
           "工作单位/就读学校", "目前状况", "月收入（元）", "主要致困原因", "次要致困原因", "是否享受低保", "低保证号",
           "帮扶联系人", "联系人电话", "联系方式", "录入时间", "备注"]
PARENTS = ("father", "mother", "wifes_father", "wifes_mother", "husbands_father", "husbands_mother")


def _cause(code: int, rng: random.Random) -> str:
    return pick(rng, f"{code}.{CAUSE_NAMES[code]}", f"{code}{CAUSE_NAMES[code]}", CAUSE_NAMES[code],
                f"（{code}）{CAUSE_NAMES[code]}")


def _id_cell(number: str, rng: random.Random) -> object:
    roll = rng.random()
    if number.endswith("X") and roll < 0.5:
        return number[:-1] + "x"
    if len(number) == 18 and roll < 0.04:
        return f"{number[:6]} {number[6:14]} {number[14:]}"
    if roll < 0.1:
        return " " + number
    return number


def _marriage(person: Person, rng: random.Random) -> str:
    if person.married:
        return "已婚"
    if person.kin == "self":
        return pick(rng, "离异", "丧偶", "未婚", weights=(5, 3, 2))
    if person.kin in PARENTS:
        return pick(rng, "丧偶", "已婚")
    if person.age(ON) < 22:
        return "未婚"
    return pick(rng, "已婚", "未婚", "丧偶")


def _person(person: Person, rng: random.Random, head: Person) -> list:
    relation = "本人" if person is head else rng.choice(WORDS[person.kin])
    return [
        "职工" if person is head else pick(rng, "家属", "家庭成员", weights=(4, 1)), person.name, relation,
        sex_word(person, rng), None, person.age(ON), _marriage(person, rng), None, person.employer,
        person.work if person.work != "在校" else pick(rng, "在校", "学生"), person.income or pick(rng, 0, "", "无"),
    ]


def _household(entry: Entry, rng: random.Random) -> dict[int, object]:
    f = entry.family
    licence = f"郑中民低字（{f.filed_on.year}）第{rng.randint(100, 9999):04d}号" if f.dibao else ""
    return {
        13: _cause(f.causes[0], rng), 14: "、".join(_cause(c, rng) for c in f.causes[1:]),
        15: "享受" if f.dibao else pick(rng, "不享受", "否", "未享受"), 16: licence, 17: f.helper,
        18: f.helper_phone, 19: f.phone,
        20: Cell(datetime.datetime.combine(f.filed_on, datetime.time(rng.randint(8, 17), rng.randint(0, 59))),
                 "yyyy/m/d h:mm"),
        21: pick(rng, "", "", "", "单亲家庭" if f.single_parent else "", "零就业家庭" if f.zero_employment else "",
                 "农民工" if f.migrant else "", "劳模" if f.model_worker else "", "住房困难"),
    }


def _block(grid: Grid, row: int, entry: Entry, code: str, rng: random.Random, ledger: Ledger) -> int:
    """The household's rows: usually the worker first; when an elderly parent heads the 户口簿 the parent comes
    first, as copied from it."""
    head = entry.family.head
    people = [head, *entry.members]
    parents = [p for p in entry.members if p.kin in PARENTS]
    if parents and rng.random() < 0.5:
        people.remove(parents[0])
        people.insert(0, parents[0])
    for person in people:
        row += 1
        grid.write_row(row, [code, *_person(person, rng, head)])
        grid.put(row, 9, entry.family.address)
        if person is head:
            grid.put(row, 6, entry.head_id if entry.kind not in ("ok", "duplicate_household") else
                     _id_cell(head.written, rng))
            for col, value in _household(entry, rng).items():
                grid.put(row, col, value)
            ledger.row(grid.name, row, entry.kind)
        else:
            grid.put(row, 6, _id_cell(person.written, rng))
            ledger.row(grid.name, row, entry.member_kind)
    return row


def _street_sheet(street: str, entries: list[Entry], rng: random.Random, ledger: Ledger) -> Grid:
    grid = Grid(street)
    grid.put(1, 1, f"中原区{street}困难职工家庭登记台账")
    grid.merge(1, 1, 1, len(HEADERS))
    grid.put(2, 1, f"街道工会（盖章）：{street}总工会　　　联系人：{rng.choice(CADRES)}　　　填报日期：2019年3月")
    grid.merge(2, 1, 2, len(HEADERS))
    grid.write_row(3, HEADERS)
    row = 3
    for k, entry in enumerate(entries, 1):
        row = _block(grid, row, entry, f"{STREET_CODES[street]}-{k:03d}", rng, ledger)
        if entry.kind == "ok":
            ledger.household(entry.family, len(entry.members))
    row += 1
    people = sum(1 + len(e.members) for e in entries)
    grid.write_row(row, ["小计", None, f"{len(entries)}户{people}人"])
    ledger.skip(grid.name, row)
    row += 2
    grid.put(row, 1, "填报人：　　　　　　　审核人：　　　　　　　（街道工会盖章）")
    grid.merge(row, 1, row, 10)
    ledger.skip(grid.name, row)
    return grid


def _summary_sheet(sheets: dict[str, list[Entry]]) -> Grid:
    grid = Grid("汇总")
    grid.put(1, 1, "各街道困难职工建档情况汇总")
    grid.merge(1, 1, 1, 5)
    grid.write_row(2, ["序号", "街道", "建档户数", "家庭人口", "备注"])
    for n, (street, entries) in enumerate(sheets.items(), 1):
        grid.write_row(2 + n, [n, street, len(entries), sum(1 + len(e.members) for e in entries)])
    total = [e for entries in sheets.values() for e in entries]
    grid.write_row(3 + len(sheets), ["合计", None, len(total), sum(1 + len(e.members) for e in total)])
    return grid


def _by_street(entries: list[Entry], streets: list[str], rng: random.Random) -> dict[str, list[Entry]]:
    """Entries per street sheet; the duplicate head goes to a later sheet than its first occurrence (the
    household moved, and the new street entered it again)."""
    duplicate = next(e for e in entries if e.kind == "duplicate_household")
    first = duplicate.family.street
    if streets.index(first) == len(streets) - 1:
        streets.remove(first)
        streets.insert(0, first)
    sheets = {street: [e for e in entries if e.family.street == street and e is not duplicate] for street in streets}
    later = rng.choice(streets[streets.index(first) + 1:])
    sheets[later].insert(rng.randint(len(sheets[later]) // 2, len(sheets[later])), duplicate)
    return sheets


@dialect(NAME)
def build_sealed(seed: int, fmt: str) -> Register:
    rng = rng_for(NAME, seed)
    pop = Population(rng, ON, old_id_rate=0.12)
    pop.streets = rng.sample(list(STREET_CODES), 4)
    entries = plan_entries(pop, Plan(valid=(48, 58), bad_members=2, number_members=0, empty_members=1,
                                     duplicate_members=1))
    sheets = _by_street(entries, list(pop.streets), rng)
    ledger = Ledger()
    grids = [_summary_sheet(sheets), *(_street_sheet(s, es, rng, ledger) for s, es in sheets.items())]
    return Register(NAME, fmt, render(grids, fmt), f"中原区困难职工登记台账（分街道）.{fmt}", ledger.expected,
                    [g.name for g in grids])
