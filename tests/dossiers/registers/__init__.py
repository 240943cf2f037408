"""Legacy registers (台账) the import engine's authors have never seen, with what a correct import makes of them.

Each dialect is the way one county office keeps its 困难职工 register in Excel: its own title rows, header wording,
layout of household members, vocabulary and slips of the hand. `build(dialect, seed, fmt)` writes one register and
states, row by row, what must come of it:

    register = build("county_two_sheet", seed=1)
    register.data, register.file_name          # the bytes of the .xlsx (or .xls / GBK .csv) and a name for it
    register.expected.households               # head's 18-digit ID number → number of OTHER members to import
    register.expected.rejected                 # (sheet, Excel row, kind) a correct importer must refuse
    register.expected.skipped_rows             # (sheet, Excel row) that are not data: 合计/小计, signatures, notes
    register.expected.valid_rows               # (sheet, Excel row) of every person that must be imported

Row numbers are 1-based, as Excel shows them, title rows included. The people are invented; their ID numbers are
computed here (GB 11643-1999), independently of the project's own code.
"""

from __future__ import annotations

import csv
import datetime
import io
import random
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import openpyxl

KINDS = ("bad_check_digit", "id_as_number", "empty_id", "duplicate_household", "member_of_bad_household")

# ---------------------------------------------------------------------------------------------------------------
# ID numbers (GB 11643-1999), computed here on purpose rather than borrowed from the code under test.

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECKS = "10X98765432"


def check_character(first17: str) -> str:
    return CHECKS[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def is_valid_18(number: str) -> bool:
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return number[17] == check_character(number[:17])


def upgrade_15(old: str) -> str:
    """An old 15-digit number in its 18-digit form: "19" after the region code, then the check character."""
    first17 = old[:6] + "19" + old[6:]
    return first17 + check_character(first17)


def typed_as_number(number: str) -> float:
    """What Excel keeps of an 18-digit number typed into a General cell: 15 significant digits, as a float."""
    return float(f"{int(number):.15g}")


def _number_readings(value: float) -> set[str]:
    """The digit strings an importer might make of a numeric ID cell."""
    return {str(int(value)), f"{Decimal(f'{value:.15g}'):f}".split(".")[0], f"{value:.0f}"}


# ---------------------------------------------------------------------------------------------------------------
# What a register is and what must come of it.


@dataclass
class Expected:
    households: dict[str, int] = field(default_factory=dict)
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
    skipped_rows: list[tuple[str, int]] = field(default_factory=list)
    valid_rows: list[tuple[str, int]] = field(default_factory=list)

    @property
    def members_total(self) -> int:
        """Member rows in the database after a real import: every head plus the other members."""
        return sum(1 + n for n in self.households.values())


@dataclass
class Register:
    dialect: str
    fmt: str
    data: bytes
    file_name: str
    expected: Expected
    sheet_names: list[str] = field(default_factory=list)


class Ledger:
    """Collects the expectations while a dialect lays out its rows."""

    def __init__(self) -> None:
        self.expected = Expected()

    def household(self, family: Family, members: int) -> None:
        self.expected.households[family.head.id_number] = members

    def row(self, sheet: str, row: int, kind: str = "ok") -> None:
        if kind == "ok":
            self.expected.valid_rows.append((sheet, row))
        else:
            assert kind in KINDS, kind
            self.expected.rejected.append((sheet, row, kind))

    def skip(self, sheet: str, row: int) -> None:
        self.expected.skipped_rows.append((sheet, row))


# ---------------------------------------------------------------------------------------------------------------
# Sheets: cells by (row, column), merges, and three ways to write them out.


@dataclass
class Cell:
    value: object
    fmt: str = ""  # Excel number format: "yyyy-mm-dd", "0", "@" …
    quote: bool = False  # typed with a leading apostrophe to force text (Excel's quotePrefix)


class Grid:
    def __init__(self, name: str) -> None:
        self.name = name
        self.cells: dict[tuple[int, int], Cell] = {}
        self.merges: list[tuple[int, int, int, int]] = []
        self.widths: dict[int, float] = {}

    def put(self, row: int, col: int, value: object) -> None:
        if value is None or value == "":
            return
        self.cells[(row, col)] = value if isinstance(value, Cell) else Cell(value)

    def write_row(self, row: int, values: list, start: int = 1) -> None:
        for col, value in enumerate(values, start):
            self.put(row, col, value)

    def merge(self, row1: int, col1: int, row2: int, col2: int) -> None:
        if (row1, col1) != (row2, col2):
            self.merges.append((row1, col1, row2, col2))

    @property
    def max_row(self) -> int:
        return max((r for r, _ in self.cells), default=0)

    @property
    def max_col(self) -> int:
        return max((c for _, c in self.cells), default=0)


def to_xlsx(grids: list[Grid]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for grid in grids:
        sheet = book.create_sheet(grid.name)
        for (row, col), cell in sorted(grid.cells.items()):
            target = sheet.cell(row=row, column=col, value=cell.value)
            if cell.fmt:
                target.number_format = cell.fmt
            if cell.quote:
                target.quotePrefix = True
        for row1, col1, row2, col2 in grid.merges:
            sheet.merge_cells(start_row=row1, start_column=col1, end_row=row2, end_column=col2)
        for col, width in grid.widths.items():
            sheet.column_dimensions[openpyxl.utils.get_column_letter(col)].width = width
    book.properties.creator = "中原区总工会"
    out = io.BytesIO()
    book.save(out)
    return _fixed_dates(out.getvalue())


def _fixed_dates(xlsx: bytes) -> bytes:
    """The same seed gives the same bytes: document dates and the zip entries' times fixed."""
    stamp = "2019-03-15T09:30:00Z"
    source, out = zipfile.ZipFile(io.BytesIO(xlsx)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
            target.writestr(zipfile.ZipInfo(item.filename, date_time=(2019, 3, 15, 9, 30, 0)), data,
                            zipfile.ZIP_DEFLATED)
    return out.getvalue()


def xls_available() -> bool:
    try:
        import xlwt  # noqa: F401
    except ImportError:
        return False
    return True


def to_xls(grids: list[Grid]) -> bytes:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    styles: dict[str, object] = {"": xlwt.Style.default_style}
    for grid in grids:
        sheet = book.add_sheet(grid.name, cell_overwrite_ok=True)
        for (row, col), cell in sorted(grid.cells.items()):
            if cell.fmt not in styles:
                styles[cell.fmt] = xlwt.easyxf(num_format_str=cell.fmt)
            sheet.write(row - 1, col - 1, cell.value, styles[cell.fmt])
        for row1, col1, row2, col2 in grid.merges:
            sheet.merge(row1 - 1, row2 - 1, col1 - 1, col2 - 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _show_date(value: datetime.date, fmt: str) -> str:
    if fmt.startswith('yyyy"年"'):
        return f"{value.year}年{value.month}月{value.day}日"
    if fmt == "yyyy/m/d":
        return f"{value.year}/{value.month}/{value.day}"
    if fmt == "yyyy.mm.dd":
        return f"{value:%Y.%m.%d}"
    return f"{value:%Y-%m-%d}"


def _show_float(value: float, fmt: str) -> str:
    if fmt == "0":
        return f"{Decimal(f'{value:.15g}'):f}".split(".")[0]
    if fmt == "0.00":
        return f"{value:.2f}"
    if abs(value) >= 1e11:  # General in a normal-width column: 6 significant digits, scientific
        mantissa, exponent = f"{value:.5E}".split("E")
        return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"
    return f"{value:.10g}"


def shown(cell: Cell) -> str:
    """The text Excel writes for a cell when it saves CSV: what the cell displays."""
    value = cell.value
    if isinstance(value, datetime.datetime):
        return f"{value.year}/{value.month}/{value.day} {value:%H:%M}"
    if isinstance(value, datetime.date):
        return _show_date(value, cell.fmt)
    if isinstance(value, float):
        return _show_float(value, cell.fmt)
    return str(value)


def to_csv(grid: Grid) -> bytes:
    """As Excel saves "CSV (逗号分隔)" on a Chinese Windows: GBK, CRLF, every row as wide as the used range."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    width = grid.max_col
    for row in range(1, grid.max_row + 1):
        cells = [grid.cells.get((row, col)) for col in range(1, width + 1)]
        writer.writerow([shown(c) if c else "" for c in cells])
    return out.getvalue().encode("gbk")


def render(grids: list[Grid], fmt: str) -> bytes:
    if fmt == "xlsx":
        return to_xlsx(grids)
    if fmt == "xls":
        return to_xls(grids)
    if fmt == "csv":
        return to_csv(grids[0])
    raise ValueError(f"unknown format {fmt!r}")


# ---------------------------------------------------------------------------------------------------------------
# People and households of 中原区 (Zhengzhou).

SURNAMES = ("王李张刘陈杨赵郭孙马朱胡高周吴徐宋韩冯程曹牛闫翟黄何郑谢梁董袁邓许吕苏卢蒋蔡贾丁魏薛叶潘杜"
            "范方石姚谭邹熊金陆郝孔白崔康毛秦江史侯邵孟段雷汤尹常武乔贺申葛耿")
GIVEN = {
    ("M", "old"): "建国 国庆 建华 建军 建设 卫东 卫国 志强 国强 保国 德明 红军 振华 金山 铁军 长海 宝山 新民 "
                  "援朝 跃进 学军 胜利 洪涛 广才 庆林 福生 满仓 红星 文明 玉林 海水 东方",
    ("M", "mid"): "伟 勇 军 磊 强 涛 斌 超 鹏 刚 杰 辉 明 亮 峰 晓东 卫华 海军 建伟 红伟 国伟 新伟 志刚 俊峰 "
                  "建峰 永军 红涛 小军 向阳 东升 伟东 海涛 长青 书军 全喜 振宇",
    ("M", "young"): "浩 宇 鑫 帅 博 凯 昊天 浩然 子豪 宇航 梓轩 一鸣 博文 俊杰 子轩 家乐 天佑 明轩 嘉豪 文博 "
                    "志远 晨阳 宏宇 思远 一帆 梓豪",
    ("F", "old"): "秀英 桂兰 玉兰 凤英 淑珍 秀兰 桂英 春花 秀珍 玉珍 凤兰 素芳 爱华 金凤 玉梅 淑英 桂芝 秀芳 "
                  "翠花 巧云 改英 俊英 香兰 玉英 美兰 素琴 爱莲 月娥",
    ("F", "mid"): "丽 艳 静 敏 娟 霞 燕 红霞 海燕 丽娟 丽萍 晓红 艳红 红梅 卫红 玉红 春燕 彩霞 小燕 秀丽 亚楠 "
                  "慧敏 晓燕 利娟 丽霞 艳芳 素梅 会玲",
    ("F", "young"): "欣怡 梓涵 子涵 雨涵 思雨 佳怡 梦瑶 一诺 诗涵 可馨 佳琪 雨欣 紫涵 若曦 欣然 嘉怡 梓萱 "
                    "静怡 雅琪 婉婷 明月 晨曦",
}
# Where people's ID numbers were issued: mostly here, many from elsewhere in Henan (some under old codes).
BIRTH_REGIONS = (("410102", 40), ("410103", 8), ("410104", 5), ("410105", 4), ("410122", 8), ("410181", 5),
                 ("410182", 4), ("410183", 3), ("410184", 3), ("410185", 2), ("411002", 2), ("410802", 2),
                 ("411302", 2), ("412701", 1), ("410702", 2), ("411102", 1), ("412801", 1))
STREETS = {
    "林山寨街道": (("伏牛路", "建设西路", "嵩山北路"), ("林山寨小区", "郑州电缆厂家属院", "伏牛路社区")),
    "建设路街道": (("建设东路", "桐柏北路", "工人路"), ("第二砂轮厂家属院", "市政家属院", "文化宫路小区")),
    "棉纺路街道": (("棉纺西路", "桐柏路", "华山路"), ("国棉三厂家属院", "国棉四厂家属院", "国棉五厂生活区")),
    "秦岭路街道": (("秦岭路", "中原西路", "陇海西路"), ("煤机厂家属院", "国棉六厂家属院", "秦岭小区")),
    "三官庙街道": (("中原中路", "工人路", "淮河西路"), ("三官庙小区", "热电厂家属院", "航海小区")),
    "汝河路街道": (("汝河路", "航海西路", "友爱路"), ("印染厂家属院", "汝河小区", "百花苑")),
}
EMPLOYERS = {
    # (employer, kind of unit) by the work status they fit
    "laid_off": (("原郑州国棉四厂", "国有企业"), ("原郑州国棉三厂", "国有企业"), ("原郑州印染厂", "国有企业"),
                 ("原郑州第二砂轮厂", "国有企业"), ("原郑州市第二食品厂", "集体企业"),
                 ("原中原区五金交电公司", "集体企业")),
    "employed": (("郑州煤矿机械集团股份有限公司", "国有企业"), ("郑州电缆有限公司", "国有企业"),
                 ("中原区环境卫生管理所", "事业单位"), ("中原区环卫所", "事业单位"), ("郑州纺织机械厂", "国有企业"),
                 ("郑州市公共交通总公司", "国有企业"), ("中原区园林绿化队", "事业单位"),
                 ("郑州华丰物业管理有限公司", "私营企业"),
                 ("郑州丹尼斯百货有限公司", "私营企业"), ("棉纺路街道社区服务中心（公益岗）", "事业单位"),
                 ("郑州宏大新型纺机有限责任公司", "国有企业"), ("中原区市政工程处", "事业单位")),
    "migrant": (("郑州中原建筑劳务有限公司", "私营企业"), ("河南华信保安服务有限公司", "私营企业"),
                ("郑州美团配送站点", "私营企业"), ("中原区汽车站保洁公司", "私营企业"), ("郑州航海物流园", "私营企业")),
}
SCHOOLS = {"kinder": ("中原区第一幼儿园", "棉纺路街道幼儿园", ""),
           "primary": ("中原区伏牛路小学", "中原区棉纺路小学", "中原区互助路小学", "中原区汝河路小学"),
           "junior": ("郑州市第十九中学", "郑州市第五十二中学", "郑州市第四十六中学", "中原区第二初级中学"),
           "senior": ("郑州市第九中学", "郑州市第四中学", "郑州市财贸学校", "郑州市电子信息工程学校"),
           "college": ("郑州大学", "河南工业大学", "郑州铁路职业技术学院", "郑州轻工业学院", "河南财经政法大学",
                       "黄河科技学院")}
ILLNESSES = {"chronic": ("高血压", "糖尿病", "冠心病", "慢阻肺", "类风湿"),
             "serious": ("尿毒症", "肝癌", "乳腺癌", "肺癌", "脑梗后遗症", "白血病", "股骨头坏死"),
             "disabled": ("肢体残疾", "视力残疾", "精神残疾", "听力残疾", "智力残疾")}
CAUSE_NAMES = {1: "无劳动能力", 2: "有劳动能力未就业", 3: "下岗失业", 4: "未参保", 5: "社保待遇未落实",
               6: "重特大疾病", 7: "自然灾害", 8: "意外事故", 9: "子女上学", 10: "其他"}
CADRES = ("张卫国", "李红梅", "王建民", "刘晓燕", "陈志强", "赵丽娟", "孙海涛", "周建华", "吴秀兰", "郭志刚",
          "马俊峰", "高丽萍", "杨东升", "胡晓红")
MOBILE = ("135", "136", "137", "138", "139", "150", "151", "152", "155", "158", "159", "176", "185", "186", "187",
          "188", "189", "130", "131", "132", "133", "153", "180", "181")


@dataclass
class Person:
    name: str
    sex: str  # "M" / "F"
    birth: datetime.date
    id_number: str  # the normalised 18-character number
    written: str  # as the office typed it: 18 characters, or the old 15 digits
    kin: str = "self"  # relationship to the worker: self, wife, husband, son, daughter, daughter_in_law, …
    ethnicity: str = "汉族"
    health: str = "healthy"  # healthy / chronic / serious / disabled
    illness: str = ""
    work: str = ""  # 在岗, 下岗, 失业, 内退, 病休, 退休, 农民工, 灵活就业, 无业, 在校, 学龄前
    employer: str = ""
    employer_kind: str = ""
    income: int = 0  # monthly, yuan
    insurance: str = "城镇居民医保"
    education: str = ""
    married: bool = False

    def age(self, on: datetime.date) -> int:
        return on.year - self.birth.year - ((on.month, on.day) < (self.birth.month, self.birth.day))


@dataclass
class Family:
    head: Person
    members: list[Person]
    street: str
    community: str
    address: str
    phone: str
    hukou: str
    causes: list[int]
    annual_income: int
    category: str  # 深度困难 / 相对困难 / 意外致困
    old_category: str  # 低保户 / 低保边缘户 / 意外致困户
    tier: str
    dibao: int
    model_worker: bool
    single_parent: bool
    zero_employment: bool
    housing: str
    area: int
    helper: str
    helper_phone: str
    wechat: str
    filed_on: datetime.date
    politics: str
    bank: str
    card: str

    @property
    def size(self) -> int:
        return 1 + len(self.members)

    @property
    def per_capita(self) -> float:
        return round(self.annual_income / self.size / 12, 2)

    @property
    def migrant(self) -> bool:
        return self.head.work == "农民工"


def _era(birth: datetime.date) -> str:
    return "old" if birth.year <= 1965 else "mid" if birth.year <= 1985 else "young"


def _years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _date_between(rng: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    return first + datetime.timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _year_span(rng: random.Random, y0: int, y1: int) -> datetime.date:
    return _date_between(rng, datetime.date(y0, 1, 1), datetime.date(y1, 12, 31))


class Population:
    """Invents households of 中原区 as they stood at `on` (the register's date)."""

    def __init__(self, rng: random.Random, on: datetime.date, old_id_rate: float = 0.0) -> None:
        self.rng = rng
        self.on = on
        self.old_id_rate = old_id_rate
        self.used: set[str] = set()
        self.streets = list(STREETS)

    # -- people ------------------------------------------------------------------------------------------------
    def surname(self) -> str:
        weights = [max(1, 40 - i) for i in range(len(SURNAMES))]
        return self.rng.choices(SURNAMES, weights)[0]

    def given(self, sex: str, birth: datetime.date) -> str:
        return self.rng.choice(GIVEN[(sex, _era(birth))].split())

    def region(self) -> str:
        codes, weights = zip(*BIRTH_REGIONS)
        return self.rng.choices(codes, weights)[0]

    def issue(self, sex: str, birth: datetime.date, region: str | None = None, old: bool = False) -> tuple[str, str]:
        region = region or self.region()
        while True:
            order = self.rng.randrange(0, 500) * 2 + (1 if sex == "M" else 0)
            if order == 0:
                continue
            first17 = f"{region}{birth:%Y%m%d}{order:03d}"
            number = first17 + check_character(first17)
            if number not in self.used:
                self.used.add(number)
                written = f"{region}{birth:%y%m%d}{order:03d}" if old else number
                return number, written

    def reissue(self, person: Person, ok: Callable[[str], bool]) -> None:
        """A new order code for `person` until their 18-digit number satisfies `ok` (always written in 18)."""
        while True:
            self.used.discard(person.id_number)
            number, _ = self.issue(person.sex, person.birth, person.id_number[:6])
            person.id_number = person.written = number
            if ok(number):
                return

    def person(self, sex: str, birth: datetime.date, kin: str, surname: str | None = None,
               region: str | None = None, old: bool = False) -> Person:
        number, written = self.issue(sex, birth, region, old)
        person = Person(name=(surname or self.surname()) + self.given(sex, birth), sex=sex, birth=birth,
                        id_number=number, written=written, kin=kin,
                        ethnicity="回族" if self.rng.random() < 0.04 else "汉族")
        self.occupy(person)
        return person

    def occupy(self, person: Person) -> None:
        """School, work, income, insurance and health by age."""
        rng, age = self.rng, person.age(self.on)
        if age < 18 or (age <= 22 and rng.random() < 0.75):
            self._pupil(person, age)
        elif age >= (60 if person.sex == "M" else 50) and rng.random() < 0.8:
            person.work = rng.choice(("退休", "退休", "无业"))
            person.income = rng.randrange(1600, 3200, 10) if person.work == "退休" else 0
            person.insurance = "职工医保" if person.work == "退休" else "城镇居民医保"
        else:
            person.work = rng.choice(("在岗", "在岗", "灵活就业", "无业", "失业", "农民工"))
            self._job(person)
        person.education = person.education or rng.choice(("初中", "高中", "中专", "小学", "大专", "初中"))
        roll = rng.random()
        if roll < 0.08:
            person.health, person.illness = "serious", rng.choice(ILLNESSES["serious"])
        elif roll < 0.18 + 0.2 * (age > 55):
            person.health, person.illness = "chronic", rng.choice(ILLNESSES["chronic"])
        elif roll < 0.24 + 0.2 * (age > 55):
            person.health, person.illness = "disabled", rng.choice(ILLNESSES["disabled"])

    def _pupil(self, person: Person, age: int) -> None:
        stage = ("kinder" if age < 6 else "primary" if age < 12 else "junior" if age < 15 else
                 "senior" if age < 18 else "college")
        person.work = "学龄前" if age < 6 else "在校"
        person.employer = self.rng.choice(SCHOOLS[stage])
        person.education = {"kinder": "学龄前", "primary": "小学在读", "junior": "初中在读", "senior": "高中在读",
                            "college": "大学在读"}[stage]

    def _job(self, person: Person) -> None:
        rng = self.rng
        if person.work in ("在岗", "农民工"):
            pool = EMPLOYERS["migrant" if person.work == "农民工" else "employed"]
            person.employer, person.employer_kind = rng.choice(pool)
            person.income = rng.randrange(1500, 3000, 50)
            person.insurance = "职工医保" if person.work == "在岗" else rng.choice(("新农合", "职工医保"))
        elif person.work == "灵活就业":
            person.employer = rng.choice(("个体（早餐摊）", "打零工", "家政服务", "个体（修车）", "网约车"))
            person.income = rng.randrange(800, 2000, 50)
        elif person.work == "下岗":
            person.employer, person.employer_kind = rng.choice(EMPLOYERS["laid_off"])
            person.income = rng.randrange(0, 900, 50)

    # -- households --------------------------------------------------------------------------------------------
    def family(self, members: tuple[int, int] = (0, 4), old_ok: bool = True) -> Family:
        while True:
            head = self._head(old_ok)
            people = self._relatives(head)
            if members[0] <= len(people):
                break
            self._forget(head, *people)
        sizes = range(members[0], members[1] + 1)
        keep = min(len(people), self.rng.choices(sizes, [(2, 3, 4, 3, 2)[n] for n in sizes])[0])
        self._forget(*people[keep:])
        return self._household(head, people[:keep])

    def _forget(self, *people: Person) -> None:
        for person in people:
            self.used.discard(person.id_number)

    def _head(self, old_ok: bool) -> Person:
        rng = self.rng
        sex = "M" if rng.random() < 0.58 else "F"
        birth = _year_span(rng, self.on.year - 61, self.on.year - 27)
        old = old_ok and birth.year < 1975 and rng.random() < self.old_id_rate
        head = self.person(sex, birth, "self", old=old)
        weights = (25 if birth.year <= 1975 else 2, 15, 30, 8, 7, 12, 3)
        head.work = rng.choices(("下岗", "失业", "在岗", "内退", "病休", "农民工", "退休"), weights)[0]
        head.employer, head.employer_kind, head.income = "", "", 0
        self._job(head)
        if head.work in ("失业", "内退", "病休", "退休"):
            head.employer, head.employer_kind = rng.choice(EMPLOYERS["employed"] + EMPLOYERS["laid_off"])
            head.income = {"失业": 0, "内退": rng.randrange(1100, 1700, 10), "病休": rng.randrange(900, 1500, 10),
                           "退休": rng.randrange(1500, 2400, 10)}[head.work]
            if head.work == "失业" and not head.employer.startswith("原"):
                head.employer = "原" + head.employer
        head.insurance = "职工医保" if head.work != "农民工" else rng.choice(("新农合", "职工医保"))
        if head.health == "healthy" and rng.random() < 0.45:  # hardship follows illness more often than not
            kind = rng.choice(("serious", "serious", "chronic", "disabled"))
            head.health, head.illness = kind, rng.choice(ILLNESSES[kind])
        return head

    def _relatives(self, head: Person) -> list[Person]:
        rng, people = self.rng, []
        head.married = rng.random() < 0.74
        family_name = head.name[0]
        if head.married:
            sex = "F" if head.sex == "M" else "M"
            birth = _date_between(rng, head.birth - datetime.timedelta(days=1500 if sex == "M" else 400),
                                  head.birth + datetime.timedelta(days=400 if sex == "M" else 1500))
            spouse = self.person(sex, birth, "wife" if sex == "F" else "husband")
            spouse.married = True
            people.append(spouse)
            family_name = head.name[0] if head.sex == "M" else spouse.name[0]
        elif rng.random() < 0.5:
            family_name = head.name[0] if rng.random() < 0.5 else self.surname()
        children = self._children(head, family_name, 0 if not head.married and rng.random() < 0.35 else None)
        people += children[:1]
        if children and children[0].age(self.on) >= 24 and rng.random() < 0.55:
            people += self._next_generation(children[0])
        people += children[1:]
        if rng.random() < 0.3:
            people.append(self._parent(head, people))
        return people

    def _children(self, head: Person, surname: str, count: int | None) -> list[Person]:
        rng = self.rng
        count = rng.choices((0, 1, 2), (1, 6, 2))[0] if count is None else count
        children = []
        for _ in range(count):
            last = min(_years(self.on, -1), _years(head.birth, 36))
            birth = _date_between(rng, _years(head.birth, 22), last)
            sex = rng.choice("MF")
            children.append(self.person(sex, birth, "son" if sex == "M" else "daughter", surname, "410102"))
        return sorted(children, key=lambda c: c.birth)

    def _next_generation(self, child: Person) -> list[Person]:
        rng = self.rng
        sex = "F" if child.sex == "M" else "M"
        in_law = self.person(sex, _date_between(rng, child.birth - datetime.timedelta(days=900),
                                                child.birth + datetime.timedelta(days=900)),
                             "daughter_in_law" if sex == "F" else "son_in_law")
        people = [in_law]
        first = _years(child.birth, 23)
        if first < self.on and rng.random() < 0.7:
            sex = rng.choice("MF")
            kin = ("grandson" if sex == "M" else "granddaughter") if child.sex == "M" else (
                "daughters_son" if sex == "M" else "daughters_daughter")
            surname = child.name[0] if child.sex == "M" else in_law.name[0]
            birth = _date_between(rng, first, self.on - datetime.timedelta(days=60))
            people.append(self.person(sex, birth, kin, surname, "410102"))
        return people

    def _parent(self, head: Person, people: list[Person]) -> Person:
        rng = self.rng
        sex = rng.choice("MF")
        in_law = bool(people) and people[0].kin in ("wife", "husband") and rng.random() < 0.35
        base = people[0] if in_law else head
        oldest = max(datetime.date(self.on.year - 93, 1, 1), _years(base.birth, -36))
        birth = _date_between(rng, oldest, _years(base.birth, -21))
        if in_law:
            kin = f"{'wifes' if head.sex == 'M' else 'husbands'}_{'father' if sex == 'M' else 'mother'}"
            surname = base.name[0] if sex == "M" else None
        else:
            kin, surname = ("father" if sex == "M" else "mother"), (head.name[0] if sex == "M" else None)
        return self.person(sex, birth, kin, surname)

    def _household(self, head: Person, members: list[Person]) -> Family:
        rng = self.rng
        street = rng.choice(self.streets)
        roads, compounds = STREETS[street]
        compound = rng.choice(compounds)
        address = (f"中原区{rng.choice(roads)}{rng.randint(1, 199)}号{compound}{rng.randint(1, 24)}号楼"
                   f"{rng.randint(1, 4)}单元{rng.randint(1, 7)}0{rng.randint(1, 4)}")
        size = 1 + len(members)
        per_capita = rng.uniform(260, 1100)
        annual = int(round(per_capita * size * 12, -2))
        causes = self._causes(head, members)
        accident = causes[0] == 8 or (causes[0] == 6 and rng.random() < 0.3)
        category = "意外致困" if accident else "深度困难" if per_capita < 600 else "相对困难"
        dibao = rng.randrange(150, 560, 10) if per_capita < 520 and rng.random() < 0.7 else 0
        old_category = "意外致困户" if accident else "低保户" if dibao else "低保边缘户"
        working = [p for p in [head, *members] if p.work in ("在岗", "农民工", "灵活就业", "内退")]
        able = [p for p in [head, *members] if 18 <= p.age(self.on) < 60 and p.work not in ("在校",)]
        return Family(
            head=head, members=members, street=street, community=compound.replace("家属院", "社区"),
            address=address, phone=self.phone(), hukou="农村" if head.work == "农民工" else "城镇",
            causes=causes, annual_income=annual, category=category, old_category=old_category,
            tier=rng.choices(("区县级", "地市级", "省级", "全国级"), (70, 20, 8, 2))[0], dibao=dibao,
            model_worker=rng.random() < 0.04,
            single_parent=not head.married and any(p.kin in ("son", "daughter") for p in members),
            zero_employment=bool(able) and not working,
            housing=rng.choices(("自有住房", "租房", "公租房", "廉租房", "租住私房", "借住亲友房"),
                                (45, 20, 10, 8, 5, 7))[0],
            area=rng.randint(24, 92), helper=rng.choice(CADRES), helper_phone=self.phone(mobile=True),
            wechat=rng.choice(("", "", f"wx{rng.randint(10000, 99999)}", "同手机号", f"zy_{rng.randint(100, 999)}")),
            filed_on=_date_between(rng, datetime.date(self.on.year - 3, 1, 1), self.on - datetime.timedelta(days=30)),
            politics=rng.choices(("群众", "中共党员", "共青团员"), (80, 17, 3))[0],
            bank=rng.choice(("中国工商银行郑州中原支行", "中国建设银行郑州棉纺路支行", "中国农业银行郑州中原区支行",
                             "郑州银行中原支行", "中国邮政储蓄银行郑州中原区支行")),
            card="62" + "".join(str(rng.randint(0, 9)) for _ in range(17)),
        )

    def _causes(self, head: Person, members: list[Person]) -> list[int]:
        rng = self.rng
        sick = any(p.health == "serious" for p in [head, *members])
        students = any(p.work == "在校" and p.age(self.on) >= 6 for p in members)
        if sick and rng.random() < 0.7:
            main = 6
        elif head.health == "disabled":
            main = 1
        elif head.work in ("下岗", "失业"):
            main = 3
        else:
            main = rng.choices((9, 8, 7, 4, 2, 10, 5), (6, 3, 1, 2, 2, 1, 1))[0]
        extra = [9] if students else []
        extra += [c for c in (3, 4, 2, 6, 5) if rng.random() < 0.12]
        causes = [main] + [c for c in dict.fromkeys(extra) if c != main]
        return causes[: rng.randint(1, 4)]

    def phone(self, mobile: bool | None = None) -> str:
        rng = self.rng
        if mobile or (mobile is None and rng.random() < 0.85):
            return rng.choice(MOBILE) + "".join(str(rng.randint(0, 9)) for _ in range(8))
        return f"0371-6{rng.randint(7, 8)}{rng.randint(100000, 999999)}"


# ---------------------------------------------------------------------------------------------------------------
# Which households a register holds, and the bad rows slipped in among them.


@dataclass
class Entry:
    """One household as the register writes it: the head row, then `members` (the member rows written for it)."""

    kind: str  # "ok" or the kind of the head row's rejection
    family: Family
    head_id: object  # what the head's ID cell holds: the number as typed, a Cell, a float, or ""
    members: list[Person]

    @property
    def member_kind(self) -> str:
        return "ok" if self.kind == "ok" else "member_of_bad_household"


def typo_last(number: str, rng: random.Random) -> str:
    return number[:17] + rng.choice([c for c in "0123456789X" if c != number[17]])


def transpose(number: str, rng: random.Random) -> str | None:
    """Two neighbouring digits of the order code swapped, if that breaks the check character."""
    for i in rng.sample([14, 15], 2):
        if number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2:]
            if not is_valid_18(swapped):
                return swapped
    return None


@dataclass
class Plan:
    """Counts of member rows written under each kind of bad head row (per dialect)."""

    valid: tuple[int, int] = (48, 58)
    bad_members: int = 2  # member rows under the first wrong-check-character head
    number_members: int = 1  # member rows under the first numeric-ID head
    empty_members: int = 0  # member rows under the head without an ID number
    duplicate_members: int = 0  # member rows repeated under the duplicate head row
    old_ok: bool = True


def plan_entries(pop: Population, plan: Plan) -> list[Entry]:
    rng = pop.rng
    entries = [Entry("ok", f, f.head.written, f.members) for f in
               (pop.family(old_ok=plan.old_ok) for _ in range(rng.randint(*plan.valid)))]

    def bad_family(members: int) -> Family:
        return pop.family(members=(members, members), old_ok=False)

    first = bad_family(plan.bad_members)
    second = bad_family(0)
    while (swapped := transpose(second.head.id_number, rng)) is None:
        pop.reissue(second.head, lambda n: True)
    numeric = [bad_family(plan.number_members), bad_family(0)]
    for family in numeric:
        pop.reissue(family.head, lambda n: n[-1] != "X" and not any(
            is_valid_18(s) for s in _number_readings(typed_as_number(n))))
    empty = bad_family(plan.empty_members)
    bad = [
        Entry("bad_check_digit", first, typo_last(first.head.id_number, rng), first.members),
        Entry("bad_check_digit", second, swapped, []),
        Entry("id_as_number", numeric[0], Cell(typed_as_number(numeric[0].head.id_number)), numeric[0].members),
        Entry("id_as_number", numeric[1], Cell(typed_as_number(numeric[1].head.id_number), "0"), []),
        Entry("empty_id", empty, "", empty.members),
    ]
    for entry in bad:
        entries.insert(rng.randint(3, len(entries)), entry)
    originals = [e for e in entries[: len(entries) // 2] if e.kind == "ok" and len(e.members) >= plan.duplicate_members]
    original = rng.choice(originals)
    at = entries.index(original)
    entries.insert(rng.randint(at + 6, len(entries)), Entry(
        "duplicate_household", original.family, original.head_id, original.members[: plan.duplicate_members]))
    return entries


def rng_for(dialect: str, seed: int) -> random.Random:
    return random.Random(zlib.crc32(f"{dialect}:{seed}".encode()))


def pick(rng: random.Random, *choices: str, weights: tuple[int, ...] | None = None) -> str:
    return rng.choices(choices, weights)[0]


def id_text(entry: Entry, rng: random.Random, *, apostrophes: bool = True) -> object:
    """The head's ID cell as an office types it: mostly plain text, sometimes forced with an apostrophe, a trailing
    space, or a lower-case x. Bad heads keep their bad value."""
    if entry.kind != "ok" and entry.kind != "duplicate_household":
        return entry.head_id
    return person_id_text(str(entry.head_id), rng, apostrophes=apostrophes)


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def person_id_text(number: str, rng: random.Random, *, apostrophes: bool = True, full_width: float = 0.0) -> object:
    """A member's (or valid head's) ID cell; `full_width`: the share typed with the input method in full-width mode."""
    if rng.random() < full_width:
        return number.translate(FULL_WIDTH)
    roll = rng.random()
    if number.endswith("X") and roll < 0.35:
        return number[:-1] + "x"
    if apostrophes and roll < 0.15:
        return Cell(number, "@", quote=True)
    if apostrophes and roll < 0.21:
        return "'" + number
    if roll < 0.26:
        return number + " "
    return number


RELATION_WORDS = {
    "wife": ("妻子", "妻", "配偶"), "husband": ("丈夫", "夫", "配偶"), "son": ("儿子", "长子", "之子"),
    "daughter": ("女儿", "长女", "之女"), "daughter_in_law": ("儿媳",), "son_in_law": ("女婿",),
    "grandson": ("孙子",), "granddaughter": ("孙女",), "daughters_son": ("外孙",),
    "daughters_daughter": ("外孙女",), "father": ("父亲", "父"), "mother": ("母亲", "母"),
    "wifes_father": ("岳父",), "wifes_mother": ("岳母",), "husbands_father": ("公公",),
    "husbands_mother": ("婆婆",),
}


def relation_word(person: Person, rng: random.Random, words: dict[str, tuple[str, ...]] | None = None) -> str:
    return rng.choice((words or RELATION_WORDS)[person.kin])


def health_word(person: Person, rng: random.Random, style: str = "free") -> str:
    """健康状况 in one office's words. "category": the national four (健康/慢性病/重大疾病/残疾) with the illness or
    disability in brackets; "poverty": the 建档立卡 four (健康/长期慢性病/患有大病/残疾); "free": whatever the
    caseworker wrote — the illness itself (尿毒症, 患肝癌), a disability with its grade."""
    grade = rng.choice("一二三四")
    if person.health == "healthy":
        return pick(rng, "健康", "健康", "良好")
    if style == "category":
        word = {"chronic": "慢性病", "serious": "重大疾病", "disabled": "残疾"}[person.health]
        detail = person.illness.replace("残疾", "") + grade + "级" if person.health == "disabled" else person.illness
        return f"{word}（{detail}）" if rng.random() < 0.7 else word
    if style == "poverty":
        return {"chronic": "长期慢性病", "serious": "患有大病", "disabled": "残疾"}[person.health]
    if person.health == "disabled":
        return f"{person.illness}{grade}级"
    return pick(rng, person.illness, f"患{person.illness}", "慢性病" if person.health == "chronic" else "重大疾病")


def sum_people(entries: list[Entry]) -> int:
    return sum(e.family.size for e in entries)


# ---------------------------------------------------------------------------------------------------------------
# Dialects.

DIALECTS: dict[str, tuple[Callable[[int, str], Register], tuple[str, ...]]] = {}


def dialect(name: str, formats: tuple[str, ...] = ("xlsx",)):
    def register(builder: Callable[[int, str], Register]):
        DIALECTS[name] = (builder, formats)
        return builder

    return register


def _load() -> None:
    from tests.dossiers.registers import sealed, sealed2  # noqa: F401  (registers itself)


def dialects() -> list[str]:
    _load()
    return list(DIALECTS)


def formats(name: str) -> tuple[str, ...]:
    _load()
    builder_formats = DIALECTS[name][1]
    return tuple(f for f in builder_formats if f != "xls" or xls_available())


def variants() -> list[tuple[str, str]]:
    """Every (dialect, format) pair that can be built here."""
    return [(name, fmt) for name in dialects() for fmt in formats(name)]


def build(dialect: str, seed: int = 1, fmt: str = "xlsx") -> Register:
    _load()
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; known: {', '.join(DIALECTS)}")
    builder, allowed = DIALECTS[dialect]
    if fmt not in allowed or (fmt == "xls" and not xls_available()):
        raise ValueError(f"dialect {dialect!r} is not available as {fmt!r}")
    return builder(seed, fmt)


def flag(yes: bool, rng: random.Random) -> str:
    """A yes/no column as offices fill it: √ or 是 for yes; ×, 否 or nothing for no."""
    return pick(rng, "√", "是", weights=(3, 2)) if yes else pick(rng, "", "×", "否", weights=(2, 1, 1))


def date_cell(day: datetime.date, rng: random.Random, styles: tuple[str, ...]) -> object:
    """A date as one of `styles`: an Excel date in a number format ("yyyy-mm-dd", "yyyy/m/d", 'yyyy"年"m"月"d"日"',
    "yyyy.mm.dd"), or text: "text.ymd" 1968.05.12, "text.ym" 1968.05, "text.cn" 1968年5月12日, "text.iso"."""
    style = rng.choice(styles)
    texts = {"text.ymd": f"{day:%Y.%m.%d}", "text.ym": f"{day:%Y.%m}",
             "text.cn": f"{day.year}年{day.month}月{day.day}日", "text.iso": f"{day:%Y-%m-%d}",
             "text.cnym": f"{day.year}年{day:%m}月"}
    return texts[style] if style in texts else Cell(day, style)


def phone_cell(phone: str, rng: random.Random) -> object:
    """Mobile numbers are often typed as plain numbers (11 digits survive in a double)."""
    return int(phone) if phone.isdigit() and rng.random() < 0.4 else phone


def sex_word(person: Person, rng: random.Random, long_form: float = 0.0) -> str:
    word = "男" if person.sex == "M" else "女"
    return word + "性" if rng.random() < long_form else word


# -- county_two_sheet: 花名册 and a separate 家庭成员 sheet linked by the worker's ID number ----------------------

TWO_SHEET_HEADS = "困难职工花名册"
TWO_SHEET_MEMBERS = "家庭成员"


def _two_sheet_head_columns(rng: random.Random) -> list[tuple[str, Callable[[Entry], object]]]:
    def fam(e: Entry) -> Family:
        return e.family

    return [
        ("姓名", lambda e: e.family.head.name),
        ("性别", lambda e: sex_word(e.family.head, rng, 0.25)),
        ("民族", lambda e: pick(rng, e.family.head.ethnicity, e.family.head.ethnicity[0], weights=(3, 1))),
        ("身份证号", lambda e: id_text(e, rng)),
        ("出生年月", lambda e: date_cell(e.family.head.birth, rng, ("text.ym", "text.ym", "text.cnym"))),
        ("政治面貌", lambda e: fam(e).politics),
        ("工作单位", lambda e: e.family.head.employer),
        ("单位性质", lambda e: e.family.head.employer_kind),
        ("就业状况", lambda e: e.family.head.work),
        ("联系电话", lambda e: phone_cell(fam(e).phone, rng)),
        ("微信号", lambda e: fam(e).wechat),
        ("家庭住址", lambda e: fam(e).address),
        ("所属街道（社区）", lambda e: f"{fam(e).street}{fam(e).community}"),
        ("户籍性质", lambda e: {"城镇": pick(rng, "城镇", "非农业"), "农村": pick(rng, "农村", "农业")}[fam(e).hukou]),
        ("家庭人口", lambda e: fam(e).size),
        ("家庭年收入（元）", lambda e: fam(e).annual_income),
        ("人均月收入（元）", lambda e: Cell(fam(e).per_capita, "0.00")),
        ("困难类别", lambda e: fam(e).category),
        ("致困原因", lambda e: pick(rng, "，", "、").join(CAUSE_NAMES[c] for c in fam(e).causes)),
        ("是否劳模", lambda e: flag(fam(e).model_worker, rng)),
        ("是否单亲", lambda e: flag(fam(e).single_parent, rng)),
        ("是否零就业家庭", lambda e: flag(fam(e).zero_employment, rng)),
        ("是否农民工", lambda e: flag(fam(e).migrant, rng)),
        ("健康状况", lambda e: health_word(e.family.head, rng, "category")),
        ("住房类型", lambda e: fam(e).housing),
        ("住房面积（㎡）", lambda e: fam(e).area),
        ("帮扶责任人", lambda e: fam(e).helper),
        ("备注", lambda e: pick(rng, "", "", "", "2016年新建档", "低保户" if fam(e).dibao else "", "配偶已故")),
    ]


def _two_sheet_heads(entries: list[Entry], rng: random.Random, ledger: Ledger) -> Grid:
    grid = Grid(TWO_SHEET_HEADS)
    columns = _two_sheet_head_columns(rng)
    width = len(columns) + 1
    grid.put(1, 1, "中原区总工会困难职工花名册（2017年度）")
    grid.merge(1, 1, 1, width)
    grid.put(2, 1, "填报单位（盖章）：中原区总工会帮扶中心")
    grid.merge(2, 1, 2, 8)
    grid.put(2, width - 5, "填报日期：2017年12月20日")
    grid.merge(2, width - 5, 2, width)
    grid.write_row(3, ["序号", *(header for header, _ in columns)])
    row = 3
    gap = rng.randint(10, len(entries) - 10)  # an empty row left in the middle of the table
    for n, entry in enumerate(entries, 1):
        row += 1 + (n == gap)
        grid.write_row(row, [n, *(value(entry) for _, value in columns)])
        ledger.row(grid.name, row, entry.kind)
        if entry.kind == "ok":
            ledger.household(entry.family, len(entry.members))
    row += 1
    size_col = 1 + [h for h, _ in columns].index("家庭人口") + 1
    grid.write_row(row, ["合计", f"{len(entries)}户"])
    grid.put(row, size_col, sum_people(entries))
    ledger.skip(grid.name, row)
    row += 2
    grid.put(row, 1, "制表人：张丽　　　　　审核人：王建民　　　　　单位负责人：")
    grid.merge(row, 1, row, 12)
    ledger.skip(grid.name, row)
    return grid


def _two_sheet_link(entry: Entry, person_rng: random.Random, upgrade: bool) -> object:
    """The 所属职工身份证号 of a member row: the worker's number as the member sheet's typist wrote it."""
    if entry.kind == "id_as_number":
        return entry.family.head.id_number  # typed correctly here; the head sheet's cell lost its digits
    if entry.kind != "ok":
        return entry.head_id
    written = entry.family.head.written
    if upgrade and len(written) == 15:
        return entry.family.head.id_number
    return written + " " if person_rng.random() < 0.1 else written


def _two_sheet_members(entries: list[Entry], rng: random.Random, ledger: Ledger) -> Grid:
    grid = Grid(TWO_SHEET_MEMBERS)
    headers = ["序号", "所属职工姓名", "所属职工身份证号", "成员姓名", "与职工关系", "成员身份证号", "性别", "出生日期",
               "健康状况", "就业（就学）状况", "工作单位或学校", "月收入（元）", "参保情况", "备注"]
    grid.put(1, 1, "困难职工家庭成员信息表")
    grid.merge(1, 1, 1, len(headers))
    grid.write_row(2, headers)
    blocks = [e for e in entries if e.members]
    late = rng.sample([e for e in blocks if e.kind == "ok"], 3)  # 补录: added at the bottom later
    blocks = [e for e in blocks if e not in late] + late
    olds = [e for e in blocks if e.kind == "ok" and len(e.family.head.written) == 15]
    upgraded = olds[0] if olds else None
    row, n = 2, 0
    for entry in blocks:
        for person in entry.members:
            row, n = row + 1, n + 1
            grid.write_row(row, [
                n, entry.family.head.name, _two_sheet_link(entry, rng, entry is upgraded), person.name,
                relation_word(person, rng, {**RELATION_WORDS, "wife": ("配偶", "妻子"), "husband": ("配偶", "丈夫")}),
                person_id_text(person.written, rng), sex_word(person, rng),
                date_cell(person.birth, rng, ("yyyy-mm-dd", "yyyy-mm-dd", "yyyy/m/d", "text.ymd")),
                health_word(person, rng, "category"), person.work, person.employer, person.income, person.insurance,
                pick(rng, "", "", "", "", "在外地上学" if person.work == "在校" else "", "随迁"),
            ])
            ledger.row(grid.name, row, entry.member_kind)
    row += 2
    grid.put(row, 1, "注：家庭成员不含职工本人，成员信息以户口簿为准。")
    grid.merge(row, 1, row, 8)
    ledger.skip(grid.name, row)
    return grid


def _two_sheet_notes() -> Grid:
    grid = Grid("填表说明")
    lines = ["填表说明",
             "1．身份证号请设置为文本格式，填写18位号码（老证可填15位）。",
             "2．是否劳模、是否单亲、是否零就业家庭、是否农民工：是打√，否打×或不填。",
             "3．困难类别：深度困难、相对困难、意外致困。",
             "4．家庭成员情况填写在“家庭成员”表中，不含职工本人。",
             "5．此表一式两份，报区总工会帮扶中心。"]
    for row, line in enumerate(lines, 1):
        grid.put(row, 1, line)
    return grid


@dialect("county_two_sheet")
def county_two_sheet(seed: int, fmt: str) -> Register:
    rng = rng_for("county_two_sheet", seed)
    pop = Population(rng, datetime.date(2017, 12, 20), old_id_rate=0.2)
    entries = plan_entries(pop, Plan(valid=(50, 58), bad_members=2, number_members=1))
    ledger = Ledger()
    grids = [_two_sheet_heads(entries, rng, ledger), _two_sheet_members(entries, rng, ledger), _two_sheet_notes()]
    return Register("county_two_sheet", fmt, render(grids, fmt), "中原区困难职工花名册（2017年度）.xlsx",
                    ledger.expected, [g.name for g in grids])


# -- one_sheet_families: each head row followed by its members, 称谓 column, household columns merged ------------

FAMILY_WORDS = {**RELATION_WORDS, "wife": ("妻子", "妻"), "husband": ("丈夫", "夫"), "son": ("儿子", "子"),
                "daughter": ("女儿", "女"), "father": ("父亲", "父"), "mother": ("母亲", "母")}
COLLOQUIAL_CAUSES = {1: ("因残", "丧失劳动能力"), 2: ("有劳动能力未就业",), 3: ("下岗失业", "失业"), 4: ("未参保",),
                     5: ("社保未落实",), 6: ("因病致困", "重特大疾病", "因病"), 7: ("因灾",),
                     8: ("意外事故", "因意外致困"), 9: ("因学致困", "子女上学"), 10: ("其他",)}
# Household columns: written on the head row, merged down over the household's member rows.
FAMILY_HOUSEHOLD_COLUMNS = (1, 12, 13, 14, 15, 16, 17, 18, 19, 20)


def _family_person_row(person: Person, rng: random.Random, relation: str, id_cell: object) -> list:
    return [
        person.name, relation, sex_word(person, rng), pick(rng, person.ethnicity, person.ethnicity[0]),
        date_cell(person.birth, rng, ("text.ymd", "text.ymd", "yyyy.mm.dd", "yyyy/m/d")), id_cell,
        person.education, health_word(person, rng, "poverty"), person.work, person.employer,
    ]


def _family_household_values(e: Entry, n: int, rng: random.Random) -> dict[int, object]:
    f = e.family
    return {
        1: n, 12: f.size, 13: Cell(round(f.annual_income / 10000, 2), "0.00"),
        14: pick(rng, "、", "，", "、").join(rng.choice(COLLOQUIAL_CAUSES[c]) for c in f.causes),
        15: f.address.removeprefix("中原区") if rng.random() < 0.3 else f.address, 16: phone_cell(f.phone, rng),
        17: f.hukou + pick(rng, "", "户口"), 18: "是" if f.dibao else pick(rng, "否", ""), 19: f.helper,
        20: f.helper_phone, 21: pick(rng, "", "", "", "单亲" if f.single_parent else "", "零就业" if
                                     f.zero_employment else "", "劳模" if f.model_worker else ""),
    }


def _family_block(grid: Grid, row: int, entry: Entry, n: int, rng: random.Random, ledger: Ledger) -> int:
    head = entry.family.head
    grid.write_row(row, _family_person_row(head, rng, "户主", id_text(entry, rng, apostrophes=False)), start=2)
    for col, value in _family_household_values(entry, n, rng).items():
        grid.put(row, col, value)
    ledger.row(grid.name, row, entry.kind)
    first = row
    for person in entry.members:
        row += 1
        grid.write_row(row, _family_person_row(
            person, rng, relation_word(person, rng, FAMILY_WORDS), person_id_text(person.written, rng,
                                                                                  apostrophes=False)), start=2)
        if rng.random() < 0.1:
            grid.put(row, 21, "同住")
        ledger.row(grid.name, row, entry.member_kind)
    for col in FAMILY_HOUSEHOLD_COLUMNS:
        grid.merge(first, col, row, col)
    return row


@dialect("one_sheet_families", formats=("xlsx", "csv"))
def one_sheet_families(seed: int, fmt: str) -> Register:
    rng = rng_for("one_sheet_families", seed)
    pop = Population(rng, datetime.date(2018, 6, 28), old_id_rate=0.1)
    entries = plan_entries(pop, Plan(valid=(45, 56), bad_members=2, number_members=1, empty_members=1,
                                     duplicate_members=1))
    stem = "中原区困难职工家庭建档立卡花名册"
    grid = Grid(stem if fmt == "csv" else "花名册")
    ledger = Ledger()
    headers = ["序号", "姓名", "称谓", "性别", "民族", "出生日期", "身份证号码", "文化程度", "健康状况", "就业状况",
               "工作单位（学校）", "家庭人口", "家庭年收入（万元）", "致困原因", "家庭住址", "联系电话", "户籍性质",
               "是否低保户", "结对帮扶干部", "帮扶干部电话", "备注"]
    grid.put(1, 1, "中原区2018年困难职工家庭建档立卡花名册")
    grid.merge(1, 1, 1, len(headers))
    grid.put(2, 1, "填报单位（盖章）：中原区总工会")
    grid.merge(2, 1, 2, 8)
    grid.put(2, 15, "统计时间：2018年6月")
    grid.merge(2, 15, 2, 21)
    grid.write_row(3, headers)
    row = 3
    gaps = set(rng.sample(range(8, len(entries) - 5), 2))  # households set apart by an empty row
    for n, entry in enumerate(entries, 1):
        row = _family_block(grid, row + 1 + (n in gaps), entry, n, rng, ledger)
        if entry.kind == "ok":
            ledger.household(entry.family, len(entry.members))
    row += 1
    grid.write_row(row, ["合计", f"共{len(entries)}户"])
    grid.put(row, 12, sum_people(entries))
    grid.put(row, 13, Cell(round(sum(e.family.annual_income for e in entries) / 10000, 2), "0.00"))
    ledger.skip(grid.name, row)
    row += 1
    grid.put(row, 1, "注：1.称谓指与户主的关系；2.家庭年收入以万元为单位；3.致困原因可填多项。")
    grid.merge(row, 1, row, 14)
    ledger.skip(grid.name, row)
    row += 2
    grid.put(row, 1, "填表人：　　　　　　审核人：　　　　　　联系电话：")
    grid.merge(row, 1, row, 14)
    ledger.skip(grid.name, row)
    return Register("one_sheet_families", fmt, render([grid], fmt), f"{stem}.{fmt}", ledger.expected, [grid.name])


# -- city_summary: two header rows, street groups with 小计, 合计 and signatures; also as Excel 97 .xls -----------

SUMMARY_WORDS = {**RELATION_WORDS, "wife": ("配偶", "妻"), "husband": ("配偶", "夫"), "son": ("之子", "长子", "儿子"),
                 "daughter": ("之女", "长女", "女儿")}
SUMMARY_SINGLE = {1: "序 号", 2: "姓  名", 3: "性 别", 4: "与职工\n关系", 5: "公民身份\n号码", 6: "出生年月",
                  7: "工作单位(或就读学校)", 8: "职工状态", 9: "健康状况", 10: "家庭住址", 11: "联系电话",
                  18: "致困原因", 19: "建档时间", 20: "街道（乡镇）", 21: "帮扶联系人", 22: "开户银行",
                  23: "银行账号", 24: "备  注"}
SUMMARY_GROUPS = ((12, "家庭收入情况", ("家庭人口（人）", "家庭年总收入(元)", "人均月收入（元/月）", "低保金(元/月)")),
                  (16, "困难类别", ("困难类型", "档案级别")))


def _summary_header(grid: Grid) -> None:
    grid.put(1, 1, "郑州市中原区困难职工档案汇总表")
    grid.merge(1, 1, 1, 24)
    grid.put(2, 1, "（截至2016年12月31日）　　　　　　　　　　　　　　　　　　　金额单位：元")
    grid.merge(2, 1, 2, 24)
    for col, text in SUMMARY_SINGLE.items():
        grid.put(3, col, text)
        grid.merge(3, col, 4, col)
    for start, group, subs in SUMMARY_GROUPS:
        grid.put(3, start, group)
        grid.merge(3, start, 3, start + len(subs) - 1)
        grid.write_row(4, list(subs), start=start)


def _summary_person(person: Person, rng: random.Random, relation: str, id_cell: object) -> list:
    return [person.name, sex_word(person, rng), relation, id_cell,
            date_cell(person.birth, rng, ("text.ym", "text.ym", "yyyy/m/d", "text.cn", "text.iso")),
            person.employer, person.work, health_word(person, rng)]


def _summary_household(e: Entry, n: int, rng: random.Random) -> dict[int, object]:
    f = e.family
    return {
        1: n, 10: f.address, 11: phone_cell(f.phone, rng), 12: f.size, 13: f.annual_income,
        14: Cell(f.per_capita, "0.00"), 15: f.dibao or pick(rng, "", 0), 16: f.old_category, 17: f.tier,
        18: "、".join(CAUSE_NAMES[c] for c in f.causes),
        19: date_cell(f.filed_on, rng, ('yyyy"年"m"月"d"日"', "yyyy/m/d", "text.ym", "text.cn")), 20: f.street,
        21: f.helper, 22: f.bank, 23: Cell(f.card, "@", quote=True),
        24: pick(rng, "", "", "", "已享受低保" if f.dibao else "", "2016年复核保留", "丈夫已故", "子女在读大学"),
    }


def _summary_rows(grid: Grid, row: int, entry: Entry, n: int, rng: random.Random, ledger: Ledger) -> int:
    grid.write_row(row, _summary_person(entry.family.head, rng, pick(rng, "本人", "职工本人"), id_text(entry, rng)),
                   start=2)
    for col, value in _summary_household(entry, n, rng).items():
        grid.put(row, col, value)
    ledger.row(grid.name, row, entry.kind)
    sons = daughters = 0
    for person in entry.members:
        row += 1
        sons, daughters = sons + (person.kin == "son"), daughters + (person.kin == "daughter")
        relation = relation_word(person, rng, SUMMARY_WORDS)
        if (person.kin == "son" and sons == 2) or (person.kin == "daughter" and daughters == 2):
            relation = "次子" if person.kin == "son" else "次女"
        id_cell = person_id_text(person.written, rng, full_width=0.04)
        grid.write_row(row, _summary_person(person, rng, relation, id_cell), start=2)
        ledger.row(grid.name, row, entry.member_kind)
    return row


def _summary_total(grid: Grid, row: int, label: tuple[str, str], entries: list[Entry]) -> None:
    grid.write_row(row, list(label))
    grid.put(row, 12, sum_people(entries))
    grid.put(row, 13, sum(e.family.annual_income for e in entries))


@dialect("city_summary", formats=("xlsx", "xls"))
def city_summary(seed: int, fmt: str) -> Register:
    rng = rng_for("city_summary", seed)
    pop = Population(rng, datetime.date(2016, 12, 31), old_id_rate=0.35)
    entries = plan_entries(pop, Plan(valid=(48, 58), bad_members=2, number_members=0, empty_members=1))
    streets = list(STREETS)
    entries.sort(key=lambda e: streets.index(e.family.street))  # stable: a duplicate stays after its original
    grid, ledger = Grid("汇总表"), Ledger()
    _summary_header(grid)
    row, n = 4, 0
    for street in streets:
        group = [e for e in entries if e.family.street == street]
        if not group:
            continue
        for entry in group:
            n += 1
            row = _summary_rows(grid, row + 1, entry, n, rng, ledger)
            if entry.kind == "ok":
                ledger.household(entry.family, len(entry.members))
        row += 1
        _summary_total(grid, row, ("小计", street), group)
        ledger.skip(grid.name, row)
    row += 1
    _summary_total(grid, row, ("合  计", f"{len(entries)}户"), entries)
    ledger.skip(grid.name, row)
    for text in ("制表人：李红梅　　　　　审核人：赵国强　　　　　制表日期：2017年1月10日",
                 "说明：困难类型按低保户、低保边缘户、意外致困户填写；建档时间为首次建档时间。"):
        row += 2 if text.startswith("制表") else 1
        grid.put(row, 1, text)
        grid.merge(row, 1, row, 16)
        ledger.skip(grid.name, row)
    grids = [grid, Grid("Sheet2"), Grid("Sheet3")]
    return Register("city_summary", fmt, render(grids, fmt), f"中原区困难职工档案汇总表2016.{fmt}", ledger.expected,
                    [g.name for g in grids])
