"""The spreadsheet layout this system exports and reads back: one sheet of households (the primary
worker's own details on the household row) and one of the other members, keyed by the primary
worker's ID number. CSV holds one sheet, so it carries both kinds of row in one table (COMBINED)."""

# The one escape of every export (hardship.exports), named here too for the household export and the import.
from hardship.exports import FORMULA_START, escape_formula  # noqa: F401

HOUSEHOLD_SHEET = "家庭档案"
MEMBER_SHEET = "家庭成员"

# (import field, header) in column order; every header maps back to its field (dossiers.legacy.headers).
HOUSEHOLD_COLUMNS = [
    ("serial", "序号"),
    ("name", "职工姓名"),
    ("id_number", "身份证号码"),
    ("sex", "性别"),
    ("ethnicity", "民族"),
    ("birth_date", "出生日期"),
    ("phone", "联系电话"),
    ("employer", "工作单位"),
    ("work_status", "就业状况"),
    ("health", "健康状况"),
    ("disability", "残疾类别"),
    ("medical_insurance", "医疗保险"),
    ("able_to_work", "有劳动能力"),
    ("monthly_income", "月收入（元）"),
    ("address", "家庭住址"),
    ("household_size", "家庭人口"),
    ("status", "档案状态"),
    ("filed_on", "建档日期"),
    ("legacy_category", "困难类别"),
    ("original_category", "原困难类型"),
    ("legacy_tier", "档案级别"),
    ("causes", "主要致困原因"),
    ("secondary_causes", "其他致困原因"),
    ("key_group", "重点群体"),
    ("housing_type", "住房类型"),
    ("area_band", "住房面积档次"),
    ("single_parent", "单亲家庭"),
    ("zero_employment", "零就业家庭"),
    ("self_reliant", "有自救能力"),
    ("model_worker", "劳模"),
    ("migrant_worker", "农民工"),
    ("receives_dibao", "享受低保"),
    ("dibao_amount", "低保金（元/月）"),
    ("annual_income", "家庭年总收入（元）"),
    ("income_wages", "工资性收入（元）"),
    ("income_business", "经营净收入（元）"),
    ("income_property", "财产净收入（元）"),
    ("income_transfers", "转移性收入（元）"),
    ("income_other", "其他收入（元）"),
    ("cost_illness", "医疗刚性支出（元）"),
    ("cost_disability", "残疾刚性支出（元）"),
    ("cost_schooling", "教育刚性支出（元）"),
    ("cost_housing", "住房刚性支出（元）"),
    ("cost_other", "其他刚性支出（元）"),
    ("bank_name", "开户银行"),
    ("bank_branch", "开户网点"),
    ("bank_card", "银行卡号"),
    ("notes", "备注"),
]

MEMBER_COLUMNS = [
    ("head_id_number", "户主身份证号"),
    ("name", "姓名"),
    ("id_number", "身份证号码"),
    ("relationship", "与户主关系"),
    ("sex", "性别"),
    ("ethnicity", "民族"),
    ("birth_date", "出生日期"),
    ("health", "健康状况"),
    ("disability", "残疾类别"),
    ("medical_insurance", "医疗保险"),
    ("work_status", "就业状况"),
    ("able_to_work", "有劳动能力"),
    ("employer", "工作单位或学校"),
    ("monthly_income", "月收入（元）"),
]

# One sheet for CSV: the household columns plus the member keys. A primary worker's row has
# 与户主关系 = 本人 and an empty 户主身份证号; a member's row has the primary worker's ID number there
# and leaves the household-only columns empty.
COMBINED_COLUMNS = HOUSEHOLD_COLUMNS[:3] + [("relationship", "与户主关系"), ("head_id_number", "户主身份证号")] \
    + HOUSEHOLD_COLUMNS[3:]
