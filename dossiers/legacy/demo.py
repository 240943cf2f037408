"""Demo data for the legacy-register import and the civil-affairs 低保 roster matching.

A messy 2019 register of 中原区 (title rows, legacy header names, 1.2万 and 12,000元, full-width digits, a 合计 row and
two rows that cannot be imported) goes through the admin's own upload, preview and import functions, so the batch,
its report and its rejected rows are what a real upload leaves. A 民政 roster naming people of the 中原区 demo files
then goes through the roster upload the caseworker uses, and its differences are left for the caseworker to accept.

Nobody in the register or the roster's unfiled people can be in a demo file: their ID numbers use sequences 300–399
(idnumbers.generate), the household demo's use 100–167.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

import openpyxl
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from dossiers import civil
from dossiers.choices import Status
from dossiers.demo import acting
from dossiers.legacy.admin import receive_upload
from dossiers.legacy.models import CivilRoster, ImportBatch
from dossiers.models import Household
from dossiers.tasks import import_batch
from hardship import idnumbers
from hardship.models import User

REGISTER_FILE = "中原区困难职工家庭档案汇总表（2019年）.xlsx"
ROSTER_FILE = "中原区城市低保在保人员名册.xlsx"
REGION = "410102"
FIRST_SEQUENCE = 300  # the household demo numbers its people 100–167
FULL_WIDTH = str.maketrans({str(digit): chr(0xFF10 + digit) for digit in range(10)})


@dataclass
class Person:
    name: str
    sex: str
    born: datetime.date
    relationship: str = ""  # as the register writes it, for members
    work: str = ""
    born_cell: object = None  # the 出生年月 cell of a member row
    id_number: str = ""


@dataclass
class Family:
    head: Person
    employer: str
    income: object  # 家庭年收入（元） as typed
    category: str
    causes: object
    address: str
    phone: object
    status: str
    note: str = ""
    members: list[Person] = field(default_factory=list)
    id_cell: object = None  # the 身份证号 cell, when it is not the plain number


def _families() -> list[Family]:
    d = datetime.date
    return [
        Family(Person("赵卫国", "M", d(1968, 4, 12)), "郑州第一棉纺厂", "1.2万", "低保户", "3、6",
               "中原区棉纺路街道棉纺路社区12号院3号楼401", "13703711208", "在档", "妻子尿毒症，每周透析两次",
               [Person("钱桂芝", "F", d(1970, 9, 3), "妻", "无", "1970.09"),
                Person("赵晨阳", "M", d(2003, 6, 18), "之子", "学生", "2003年6月")]),
        Family(Person("孙丽萍", "F", d(1975, 2, 26)), "中原区环卫所", "12,000元", "深度困难", "6-重特大疾病",
               "中原区桐柏路街道汝河路社区5号院2单元302", 13803712345.0, "在档", "乳腺癌术后化疗",
               [Person("孙悦", "F", d(2006, 11, 9), "女儿", "在读", "2006.11")]),
        Family(Person("周建军", "M", d(1972, 8, 15)), "郑州第二砂轮厂（已破产）", 31000, "低保边缘户", 3,
               "中原区林山寨街道建设西路187号院", "0371-67891234", "在档", "",
               [Person("吴秀梅", "F", d(1973, 5, 20), "爱人", "下岗失业", "1973.05"),
                Person("周涛", "M", d(2001, 3, 2), "儿子", "灵活就业", "2001.03"),
                Person("刘凤英", "F", d(1946, 1, 25), "母亲", "离退休", datetime.datetime(1946, 1, 25))]),
        Family(Person("吴海燕", "F", d(1981, 12, 1)), "郑州华润纺织有限公司", "¥9,600.00", "相对困难", "2",
               "中原区须水街道西岗村安置区7号楼", "15937100518", "在档", "离异，独自抚养女儿",
               [Person("吴思琪", "F", d(2010, 7, 14), "女", "学生", "2010.07")]),
        Family(Person("郑国庆", "M", d(1965, 10, 1)), "中原区市政工程管理处", "2.45万元", "意外致困户", "8、6",
               "中原区三官庙街道航海西路32号院", "13598012766", "在档", "2019年5月工伤致残，住院三个月",
               [Person("冯玉兰", "F", d(1967, 3, 8), "配偶", "无业", "1967.03")]),
        Family(Person("冯志强", "M", d(1979, 7, 7)), "郑州煤矿机械集团", "28,800", "相对困难", "下岗失业，子女上学",
               "中原区中原西路街道秦岭路社区9号楼", "18638215570", "在档", "身份证号码末位为小写 x",
               [Person("褚丽娟", "F", d(1980, 2, 11), "妻子", "在职", "1980.02"),
                Person("冯子涵", "F", d(2008, 9, 1), "长女", "学生", "2008.09")]),
        Family(Person("陈淑珍", "F", d(1966, 3, 30)), "中原区建设路街道环卫站", 16800.0, "低保户", "1、6",
               "中原区建设路街道互助路社区14号院", "13700867342", "已脱困", "2021年已脱困",
               [Person("陈立军", "M", d(1963, 12, 19), "丈夫", "退休", "1963.12")]),
        Family(Person("韩振华", "M", d(1970, 1, 18)), "郑州纺织机械厂", "3.6万", "低保边缘户", "3",
               "中原区棉纺西路街道锦艺社区3号院", "13938576410", "已脱困", "再就业后收入稳定",
               [Person("魏红梅", "F", d(1972, 6, 6), "妻", "在岗", "1972.06"),
                Person("韩磊", "M", d(1996, 4, 30), "之子", "在职", "1996.04")]),
        Family(Person("褚红梅", "F", d(1983, 5, 5)), "中原区伏牛路小学（临聘）", "1.5万元", "深度困难", "9、2",
               "中原区绿东村街道伏牛路社区22号楼", "15890143287", "在档", "单亲，儿子上高中",
               [Person("褚浩", "M", d(2007, 10, 21), "之子", "学生", "2007.10")]),
        Family(Person("卫东升", "M", d(1974, 11, 11)), "河南送变电建设公司", "26,400元", "相对困难", "6",
               "中原区汝河路街道华山路社区6号院", "13633851029", "在档", "父亲脑梗长期卧床",
               [Person("蒋秀英", "F", d(1976, 8, 8), "妻", "无", "1976.08"),
                Person("卫国强", "M", d(1948, 5, 16), "父亲", "退休", "1948.05"),
                Person("卫雨桐", "F", d(2005, 1, 30), "女儿", "学生", "2005.01")]),
        Family(Person("蒋玉兰", "F", d(1969, 6, 6)), "郑州第一棉纺厂（内退）", 19200, "低保户", "6、1",
               "中原区棉纺路街道国棉一厂家属院4号楼", "13526701392", "在档", "",
               [Person("杨建设", "M", d(1967, 9, 9), "夫", "病退", "1967.09")]),
        Family(Person("沈浩然", "M", d(1986, 2, 14)), "中原区快递服务站", "3.0万", "意外致困", "7",
               "中原区须水街道白寨村安置区", "18237106655", "在档", "2019年暴雨房屋受损",
               [Person("沈静", "F", d(1988, 12, 12), "配偶", "在岗", "1988.12"),
                Person("沈子墨", "M", d(2016, 3, 3), "儿子", "学龄前", "2016.03")]),
        # Stored by Excel as a number: the last three digits are gone, the row cannot be imported.
        Family(Person("杨立新", "M", d(1985, 3, 7)), "郑州第一棉纺厂", "2.2万", "相对困难", "3",
               "中原区棉纺路街道友爱路社区", "13903718801", "在档", "", id_cell=4.10102198503071E+17),
    ]


def _number_people(families: list[Family]) -> None:
    """Fixed, valid numbers; 冯志强's is one that ends in X, which the register writes as a lowercase x."""
    sequence = FIRST_SEQUENCE
    for family in families:
        for person in (family.head, *family.members):
            person.id_number = idnumbers.generate(REGION, person.born, sequence, person.sex)
            sequence += 1
            while person.name == "冯志强" and not person.id_number.endswith("X"):
                person.id_number = idnumbers.generate(REGION, person.born, sequence, person.sex)
                sequence += 1


def _id_cell(family: Family) -> object:
    if family.id_cell is not None:
        return family.id_cell
    number = family.head.id_number
    if family.head.name == "郑国庆":
        return number.translate(FULL_WIDTH)  # typed with a Chinese input method
    return number.replace("X", "x")


HOUSEHOLD_HEADERS = ["序号", "姓名", "身份证号", "工作单位名称", "家庭人数", "家庭年收入（元）", "困难类型", "致困原因",
                     "家庭住址", "联系电话", "档案状态", "备注"]
MEMBER_HEADERS = ["户主身份证号", "姓名", "身份证号码", "与户主关系", "出生年月", "就业状况"]
# A member whose household is not in the file (it went into the 2018 register): rejected.
ORPHAN = Person("何小军", "M", datetime.date(2004, 8, 17), "之子", "学生", "2004.08")
ORPHAN_HEAD = Person("何建平", "M", datetime.date(1971, 4, 9))


def register_workbook() -> bytes:
    """The 2019 register of 中原区 as the union kept it in Excel."""
    families = _families()
    _number_people(families)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "家庭档案"
    sheet.append(["中原区总工会困难职工家庭档案汇总表（2019年）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HOUSEHOLD_HEADERS))
    sheet.append(["填报单位：中原区总工会  填报日期：2019年12月"])
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(HOUSEHOLD_HEADERS))
    sheet.append(HOUSEHOLD_HEADERS)
    for serial, family in enumerate(families, 1):
        sheet.append([serial, family.head.name, _id_cell(family), family.employer, 1 + len(family.members),
                      family.income, family.category, family.causes, family.address, family.phone, family.status,
                      family.note])
    people = sum(1 + len(family.members) for family in families)
    sheet.append(["合计", f"{len(families)}户", None, None, people])
    sheet.append([])
    sheet.append(["填表人：李娜    审核人：张国华    联系电话：0371-67883321"])
    members = workbook.create_sheet("家庭成员")
    members.append(MEMBER_HEADERS)
    for family in families:
        for person in family.members:
            members.append([family.head.id_number, person.name, person.id_number, person.relationship,
                            person.born_cell, person.work])
    head, orphan = (idnumbers.generate(REGION, person.born, FIRST_SEQUENCE + 90 + index, person.sex)
                    for index, person in enumerate((ORPHAN_HEAD, ORPHAN)))
    members.append([head, ORPHAN.name, orphan, ORPHAN.relationship, ORPHAN.born_cell, ORPHAN.work])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_register(*, by: User, when: datetime.datetime) -> ImportBatch:
    """The register uploaded, previewed and imported the way the admin pages do it, skipping the rows in error."""
    upload = SimpleUploadedFile(REGISTER_FILE, register_workbook())
    batch = receive_upload(upload, union=by.home_union, mode=ImportBatch.Mode.SKIP_INVALID, user=by)
    if batch.state != ImportBatch.State.PREVIEWED or not batch.preview:
        raise RuntimeError(f"演示导入预览失败：{batch.get_state_display()} {batch.preview or batch.report}")
    ImportBatch.objects.filter(pk=batch.pk).update(state=ImportBatch.State.RUNNING)  # confirmed, the task took it
    batch.state = ImportBatch.State.RUNNING
    with time_machine.travel(when, tick=True), acting(by, reverse("admin:dossiers_importbatch_batch", args=[batch.pk])):
        batch = import_batch(batch)  # the import adds its file to the context: the history names it
    if batch.state != ImportBatch.State.DONE:
        raise RuntimeError(f"演示导入失败：{batch.get_state_display()} {batch.report}")
    batch.created_at, batch.finished_at = when, when + datetime.timedelta(seconds=42)
    batch.save(update_fields=["created_at", "finished_at"])
    return batch


# --- the 民政 roster -------------------------------------------------------------------------------------------

ROSTER_HEADERS = ["序号", "街道办事处", "户主姓名", "保障对象姓名", "保障对象身份证号码", "低保状态",
                  "月保障金额（元）"]
# (what the file records: receives_dibao, amount) set on the first files before the roster comes in.
RECORDED = [(True, Decimal("850.00")), (True, Decimal("620.00")), (True, Decimal("500.00"))]
# People the roster names who have no file anywhere: 未建档.
NOT_FILED = [Person("石建平", "M", datetime.date(1959, 7, 23)), Person("牛桂英", "F", datetime.date(1962, 2, 5))]


def _roster_files(union) -> list[Household]:
    """Open 中原区 demo files, those on the register first (the roster's people are theirs)."""
    files = Household.objects.filter(union__path__startswith=union.path, import_batch=None).open()
    registered = list(files.on_register().order_by("pk"))
    pipeline = list(files.exclude(status__in=[Status.REGISTERED, Status.EXIT_PROPOSED, Status.DRAFT,
                                              Status.RETURNED]).order_by("pk"))
    chosen = (registered + pipeline)[:7]
    if len(chosen) < 7:
        raise RuntimeError("演示民政名册需要至少 7 户中原区演示档案")
    return chosen


def _record_dibao(files: list[Household], by: User) -> None:
    """The caseworker's edits of the files, each in the history as her request to the edit page records it."""
    for household, (receives, amount) in zip(files, RECORDED):
        with acting(by, reverse("dossiers:edit", args=[household.file_number])):
            household.receives_dibao, household.dibao_amount = receives, amount
            household.save(update_fields=["receives_dibao", "dibao_amount", "updated_at"])


def roster_workbook(files: list[Household]) -> bytes:
    """The roster: files[0] agrees, files[1] is missing (recorded here only), files[2] has another amount, files[3],
    files[4] (a spouse) and files[5] are on 低保 with no note of it in the file, files[6] has left 低保."""
    consistent, _missing, other_amount, new_a, new_b, new_c, stopped = files
    spouse = new_b.members.exclude(is_primary=True).order_by("pk").first() or new_b.members.get(is_primary=True)
    rows = [
        (consistent, consistent.members.get(is_primary=True), "在保", "850"),
        (other_amount, other_amount.members.get(is_primary=True), "在保", "560.00"),
        (new_a, new_a.members.get(is_primary=True), "在保", "720"),
        (new_b, spouse, "正常享受", "1,240.00"),
        (new_c, new_c.members.get(is_primary=True), "在保", "980元"),
        (stopped, stopped.members.get(is_primary=True), "停保", ""),
    ]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "在保人员"
    sheet.append(["中原区城市居民最低生活保障在保人员名册"])
    sheet.append(ROSTER_HEADERS)
    streets = ["棉纺路街道", "林山寨街道", "建设路街道", "桐柏路街道"]
    for serial, (household, member, state, amount) in enumerate(rows, 1):
        sheet.append([serial, streets[serial % 4], household.head_name, member.name, member.id_number, state, amount])
    for offset, person in enumerate(NOT_FILED):
        number = idnumbers.generate(REGION, person.born, FIRST_SEQUENCE + 95 + offset, person.sex)
        sheet.append([len(rows) + offset + 1, "须水街道", person.name, person.name, number, "在保", 680 + offset * 90])
    wrong_check = idnumbers.generate(REGION, datetime.date(1977, 10, 2), FIRST_SEQUENCE + 98, "F")
    wrong_check = wrong_check[:17] + ("0" if wrong_check[17] != "0" else "1")  # a typo in the check digit
    sheet.append([len(rows) + len(NOT_FILED) + 1, "中原西路街道", "马翠兰", "马翠兰", wrong_check, "在保", "650"])
    sheet.append(["合计", None, None, None, None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload_roster(*, by: User) -> CivilRoster:
    """The roster read and matched as the caseworker's upload page does it; nothing is accepted."""
    files = _roster_files(by.home_union)
    _record_dibao(files, by)
    parsed = civil.read_roster(roster_workbook(files), ROSTER_FILE)
    with acting(by, reverse("dossiers:civil_upload")):
        return civil.create_roster(parsed, file_name=ROSTER_FILE, by=by)


@transaction.atomic
def load_legacy_demo() -> str:
    """The import batch and the roster, once (left alone when either already exists)."""
    if ImportBatch.objects.exists() or CivilRoster.objects.exists():
        return ""
    # Two hours ago: its rejected rows can still be downloaded (they are kept tasks.KEPT_HOURS).
    when = (timezone.localtime() - datetime.timedelta(hours=2)).replace(second=0, microsecond=0)
    batch = import_register(by=User.objects.get(username="admin"), when=when)
    caseworker = User.objects.get(username="caseworker")
    roster = upload_roster(by=caseworker)
    counts = civil.section_counts(roster, caseworker)
    return (f"，历史档案导入 1 批（新建 {batch.report['households_created']} 户，"
            f"有误 {batch.report['rejected_rows_total']} 行），"
            f"民政低保名册 1 份（差异 {counts['differences']} 条，未建档 {counts['unmatched']} 人）")
