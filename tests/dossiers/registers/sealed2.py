"""sealed2: a 街道 union's 帮扶台账, one sheet per 社区 behind a 汇总 sheet, every person on a row of their own.

棉纺路街道总工会 keeps its hardship households in one workbook: a 汇总 sheet with the counts per 社区 first, then a
sheet for each 社区工会联合会 (the same form on each: title, unit line, header, a row of column numbers), then the
notes. Every row carries the household's 户编号; the worker's row comes first and holds the household's figures,
the members follow in 户口簿 order. Each 社区 sheet ends with its 合计, a note and the sign-off line.
"""

from __future__ import annotations

import datetime
import random

from tests.dossiers.registers import (
    CAUSE_NAMES,
    Cell,
    Entry,
    Family,
    Grid,
    Ledger,
    Person,
    Plan,
    Population,
    Register,
    dialect,
    phone_cell,
    pick,
    plan_entries,
    render,
    rng_for,
)

NAME = "sealed2"
ON = datetime.date(2019, 3, 20)
STREET = "棉纺路街道"
# The community as Population names it → (sheet name, prefix of its 户编号).
COMMUNITIES = {"国棉三厂社区": ("国棉三厂社区", "GM3"), "国棉四厂社区": ("国棉四厂社区", "GM4"),
               "国棉五厂生活区": ("国棉五厂社区", "GM5")}

HEADERS = ["序号", "户编号", "姓名", "与职工关系", "性别", "身份证号码", "出生日期", "身体状况", "从业状况",
           "工作单位或就读学校", "个人月收入（元）", "医保类型", "家庭人数", "家庭月收入（元）", "人均月收入（元）",
           "困难程度", "主要致困原因", "其他致困原因", "住房情况", "单亲", "零就业", "劳模", "低保金（元/月）",
           "联系电话", "家庭住址", "帮扶责任人", "政治面貌", "核对授权书", "春节慰问金（元）", "备注"]
COL = {header: n for n, header in enumerate(HEADERS, 1)}
FIRST_DATA_ROW = 5  # title, unit line, header, column numbers

KIN_WORDS = {
    "wife": ("爱人", "爱人", "妻子"), "husband": ("爱人", "爱人", "丈夫"), "son": ("儿子",), "daughter": ("女儿",),
    "daughter_in_law": ("儿媳",), "son_in_law": ("女婿",), "grandson": ("孙子",), "granddaughter": ("孙女",),
    "daughters_son": ("外孙",), "daughters_daughter": ("外孙女",), "father": ("父亲",), "mother": ("母亲",),
    "wifes_father": ("岳父",), "wifes_mother": ("岳母",), "husbands_father": ("公公",), "husbands_mother": ("婆婆",),
}
WORK_WORDS = {"在岗": "在职", "病休": "长期病休", "在校": "在读"}
INSURANCE_WORDS = {"职工医保": "城镇职工医保", "城镇居民医保": "城乡居民医保", "新农合": "新农合"}
HOUSING_WORDS = {"自有住房": "自有房", "租房": "租赁房", "公租房": "公租房", "廉租房": "廉租房",
                 "租住私房": "租住私房", "借住亲友房": "借住亲友房"}
CAUSE_WORDS = {1: "无劳动能力", 2: "有劳动能力但未就业", 3: "下岗失业", 4: "未参加社会保险", 5: "社保待遇未落实",
               6: "患重特大疾病", 7: "遭受自然灾害", 8: "遭遇意外事故", 9: "子女就学", 10: "其他"}
assert set(CAUSE_WORDS) == set(CAUSE_NAMES)
GRADES = "一二三四"


# -- the people's cells ------------------------------------------------------------------------------------------


def _kin(person: Person, head: Person, rng: random.Random) -> str:
    if person.kin in ("wife", "husband") and head.age(ON) >= 55 and rng.random() < 0.3:
        return "老伴"
    return rng.choice(KIN_WORDS[person.kin])


def _health(person: Person, rng: random.Random) -> str:
    if person.health == "healthy":
        return pick(rng, "健康", "健康", "正常")
    if person.health == "chronic":
        return f"{person.illness}（慢病）"
    if person.health == "serious":
        return f"{person.illness}（大病）"
    return f"{rng.choice(GRADES)}级{person.illness}"


def _birth(person: Person, rng: random.Random) -> object:
    day = person.birth
    return Cell(day, "yyyy-m-d") if rng.random() < 0.6 else f"{day.year}.{day.month}.{day.day}"


def _id_cell(written: str, rng: random.Random) -> object:
    """A valid number as the 社区 typist left it: mostly text; an old 15-digit one now and then typed as a number
    (all 15 digits survive, shown in full); a text-formatted cell, a trailing space, a lower-case x."""
    roll = rng.random()
    if len(written) == 15 and roll < 0.15:
        return Cell(int(written), "0")
    if written.endswith("X") and roll < 0.5:
        return written[:-1] + "x"
    if roll < 0.12:
        return Cell(written, "@")
    if roll < 0.18:
        return written + " "
    return written


def _person_cells(person: Person, relation: str, id_cell: object, rng: random.Random) -> dict[int, object]:
    adult = person.age(ON) >= 18 and person.work not in ("在校", "学龄前")
    return {
        COL["姓名"]: person.name, COL["与职工关系"]: relation, COL["性别"]: "男" if person.sex == "M" else "女",
        COL["身份证号码"]: id_cell, COL["出生日期"]: _birth(person, rng), COL["身体状况"]: _health(person, rng),
        COL["从业状况"]: WORK_WORDS.get(person.work, person.work), COL["工作单位或就读学校"]: person.employer,
        COL["个人月收入（元）"]: person.income if person.income or adult else "",
        COL["医保类型"]: INSURANCE_WORDS[person.insurance],
    }


# -- the household's cells, on the worker's row -----------------------------------------------------------------


def _remark(family: Family, rng: random.Random) -> str:
    away = any(p.work == "在校" and p.age(ON) >= 18 for p in family.members)
    return pick(rng, "", "", "", "", "2018年复核保留", "已纳入低保" if family.dibao else "",
                "子女在外地上大学" if away else "")


def _household_cells(family: Family, rng: random.Random) -> dict[int, object]:
    others = "；".join(CAUSE_WORDS[c] for c in family.causes[1:])
    return {
        COL["家庭人数"]: family.size, COL["家庭月收入（元）"]: round(family.annual_income / 12),
        COL["人均月收入（元）"]: Cell(family.per_capita, "0.00"), COL["困难程度"]: family.category,
        COL["主要致困原因"]: CAUSE_WORDS[family.causes[0]], COL["其他致困原因"]: others or "无",
        COL["住房情况"]: f"{HOUSING_WORDS[family.housing]}，{family.area}平方米",
        COL["单亲"]: "✓" if family.single_parent else "", COL["零就业"]: "✓" if family.zero_employment else "",
        COL["劳模"]: "市级劳模" if family.model_worker else "无", COL["低保金（元/月）"]: family.dibao or "无",
        COL["联系电话"]: phone_cell(family.phone, rng), COL["家庭住址"]: family.address,
        COL["帮扶责任人"]: family.helper, COL["政治面貌"]: family.politics,
        COL["核对授权书"]: pick(rng, "已签", "已签", "已签", "已签", "补签"),
        COL["春节慰问金（元）"]: gift(family), COL["备注"]: _remark(family, rng),
    }


def gift(family: Family) -> int:
    return 1000 if family.category == "深度困难" else 800 if family.category == "意外致困" else 500


def _head_id(entry: Entry, rng: random.Random) -> object:
    if entry.kind in ("ok", "duplicate_household"):
        return _id_cell(str(entry.head_id), rng)
    return entry.head_id  # the planted value: a wrong check character, a number that lost digits, nothing


# -- the sheets --------------------------------------------------------------------------------------------------


class CommunitySheet:
    def __init__(self, name: str, prefix: str, ledger: Ledger, rng: random.Random) -> None:
        self.grid, self.prefix, self.ledger, self.rng = Grid(name), prefix, ledger, rng
        self.row, self.people, self.households = FIRST_DATA_ROW - 1, 0, []
        width = len(HEADERS)
        self.grid.put(1, 1, f"{STREET}困难职工家庭帮扶台账（{name}）")
        self.grid.merge(1, 1, 1, width)
        self.grid.put(2, 1, f"填报单位：{name}工会联合会")
        self.grid.merge(2, 1, 2, 10)
        self.grid.put(2, 24, "统计截止：2019年3月20日　　金额单位：元")
        self.grid.merge(2, 24, 2, width)
        self.grid.write_row(3, HEADERS)
        self.grid.write_row(4, list(range(1, width + 1)))
        for col, size in ((2, 9), (3, 8), (6, 21), (10, 26), (25, 40)):
            self.grid.widths[col] = size

    def add(self, entry: Entry) -> None:
        self.households.append(entry)
        number = f"{self.prefix}-{len(self.households):03d}"
        head = entry.family.head
        self._line(number, {**_person_cells(head, "本人", _head_id(entry, self.rng), self.rng),
                            **_household_cells(entry.family, self.rng)}, entry.kind)
        for person in entry.members:
            cells = _person_cells(person, _kin(person, head, self.rng), _id_cell(person.written, self.rng), self.rng)
            if person.work == "在校" and person.age(ON) >= 18 and self.rng.random() < 0.3:
                cells[COL["备注"]] = "在外地读书"
            self._line(number, cells, entry.member_kind)
        if entry.kind == "ok":
            self.ledger.household(entry.family, len(entry.members))

    def _line(self, number: str, cells: dict[int, object], kind: str) -> None:
        self.row += 1
        self.people += 1
        self.grid.put(self.row, COL["序号"], self.people)
        self.grid.put(self.row, COL["户编号"], number)
        for col, value in cells.items():
            self.grid.put(self.row, col, value)
        self.ledger.row(self.grid.name, self.row, kind)

    def close(self) -> None:
        grid, width = self.grid, len(HEADERS)
        self.row += 1
        grid.put(self.row, 1, "合计")
        grid.put(self.row, 3, f"{len(self.households)}户")
        grid.put(self.row, COL["家庭人数"], sum(e.family.size for e in self.households))
        grid.put(self.row, COL["春节慰问金（元）"], sum(gift(e.family) for e in self.households))
        self.ledger.skip(grid.name, self.row)
        self.row += 1
        grid.put(self.row, 1, "注：户编号由街道工会统一编制；家庭成员按户口簿顺序填写，本人在前。")
        grid.merge(self.row, 1, self.row, 16)
        self.ledger.skip(grid.name, self.row)
        self.row += 2
        grid.put(self.row, 1, "社区工会主席（签字）：　　　　　　经办人：　　　　　　联系电话：　　　　　　"
                              "2019年3月20日")
        grid.merge(self.row, 1, self.row, width)
        self.ledger.skip(grid.name, self.row)


def _summary(sheets: list[CommunitySheet]) -> Grid:
    grid = Grid("汇总")
    grid.put(1, 1, f"{STREET}困难职工帮扶台账汇总表（2019年3月）")
    grid.merge(1, 1, 1, 7)
    grid.write_row(2, ["社区", "户数", "人数", "深度困难", "相对困难", "意外致困", "慰问金合计（元）"])
    row = 2
    for sheet in sheets:
        row += 1
        categories = [e.family.category for e in sheet.households]
        grid.write_row(row, [sheet.grid.name, len(sheet.households), sheet.people,
                             *(categories.count(c) for c in ("深度困难", "相对困难", "意外致困")),
                             sum(gift(e.family) for e in sheet.households)])
    totals = [sum(grid.cells[(r, c)].value for r in range(3, row + 1) if (r, c) in grid.cells) for c in range(2, 8)]
    grid.write_row(row + 1, ["合计", *totals])
    grid.put(row + 3, 1, f"{STREET}总工会（盖章）　　　　　　报送日期：2019年3月25日")
    grid.merge(row + 3, 1, row + 3, 7)
    return grid


def _notes() -> Grid:
    grid = Grid("填表说明")
    lines = ["填表说明",
             "1．每个社区一张表，每人一行；同一户的人员户编号相同，职工本人填在第一行。",
             "2．家庭人数、家庭收入、致困原因、住房等家庭情况只在职工本人一行填写。",
             "3．身份证号码一律填写18位，老身份证未换领的可填15位。",
             "4．单亲、零就业：是的打✓，不是的空着。",
             "5．困难程度按深度困难、相对困难、意外致困填写。",
             "6．每季度末报街道总工会，电子版与纸质版（社区工会盖章）同时报送。"]
    for row, line in enumerate(lines, 1):
        grid.put(row, 1, line)
    return grid


def _old_numbers(entries: list[Entry], rng: random.Random) -> None:
    """Older members who never changed their first-generation card: their number written in the old 15 digits."""
    for entry in entries:
        for person in entry.members:
            if person.birth.year < 1960 and len(person.written) == 18 and rng.random() < 0.5:
                person.written = person.id_number[:6] + person.id_number[8:17]


def _sheet_of(entries: list[Entry], rng: random.Random) -> dict[int, str]:
    """Each entry's 社区; the duplicate was entered again by a later 社区 where there is one."""
    order = list(COMMUNITIES)
    placed = {id(e): e.family.community for e in entries}
    for entry in entries:
        if entry.kind == "duplicate_household":
            later = order[order.index(entry.family.community) + 1:]
            placed[id(entry)] = rng.choice(later) if later else entry.family.community
    return placed


@dialect(NAME, formats=("xlsx", "xls"))
def sealed2(seed: int, fmt: str) -> Register:
    rng = rng_for(NAME, seed)
    pop = Population(rng, ON, old_id_rate=0.3)
    pop.streets = [STREET]
    entries = plan_entries(pop, Plan(valid=(42, 62), bad_members=2, number_members=1, empty_members=1,
                                     duplicate_members=1))
    for entry in entries:
        if entry.kind == "duplicate_household":
            entry.members = list(entry.family.members)  # entered again in full
    _old_numbers(entries, rng)
    placed = _sheet_of(entries, rng)
    ledger = Ledger()
    sheets = []
    for community, (name, prefix) in COMMUNITIES.items():
        sheet = CommunitySheet(name, prefix, ledger, rng)
        for entry in entries:
            if placed[id(entry)] == community:
                sheet.add(entry)
        sheet.close()
        sheets.append(sheet)
    grids = [_summary(sheets), *(s.grid for s in sheets), _notes()]
    return Register(NAME, fmt, render(grids, fmt), f"{STREET}困难职工帮扶台账（2019年一季度）.{fmt}", ledger.expected,
                    [g.name for g in grids])
