"""The four batches' measure types and the suggestions by cause, as shipped (administrators may change them)."""

from django.db import migrations

# (code, batch, name, English name, involves money or goods)
MEASURE_TYPES = [
    ("skills_training", "employment", "技能培训", "Skills training", False),
    ("job_referral", "employment", "职业介绍", "Job referral", False),
    ("entrepreneurship", "employment", "创业培训与指导", "Entrepreneurship training and guidance", False),
    ("small_loan", "employment", "小额贷款（免息或贴息）", "Interest-free or subsidised small loan", True),
    ("public_welfare_job", "employment", "公益性岗位安置", "Public-welfare job", False),
    ("sunshine_employment", "employment", "阳光就业（高校毕业生）", "Sunshine employment (graduates)", False),
    ("pension_enrolment", "social_insurance", "参加养老保险", "Pension insurance enrolment", False),
    ("medical_enrolment", "social_insurance", "参加医疗保险", "Medical insurance enrolment", False),
    ("unemployment_enrolment", "social_insurance", "参加失业保险", "Unemployment insurance enrolment", False),
    ("work_injury_enrolment", "social_insurance", "参加工伤保险", "Work-injury insurance enrolment", False),
    ("benefits_owed", "social_insurance", "落实应享社保待遇", "Social-insurance benefits owed", True),
    ("contribution_arrears", "social_insurance", "追缴单位欠缴社保费", "Employer contribution arrears", True),
    ("serious_illness_insurance", "medical", "大病保险", "Serious-illness insurance", True),
    ("medical_mutual_aid", "medical", "职工医疗互助", "Workers' medical mutual aid", True),
    ("medical_relief", "medical", "特殊医疗救助", "Special medical relief", True),
    ("dibao_enrolment", "backstop", "纳入最低生活保障（低保）", "Minimum living allowance (dibao) enrolment", True),
    ("extreme_poverty_support", "backstop", "特困人员救助供养", "Support for the extremely poor", True),
    ("temporary_relief", "backstop", "临时救助", "Temporary relief", True),
    ("disaster_relief", "backstop", "受灾人员救助", "Disaster relief", True),
    ("education_aid", "backstop", "金秋助学", "Golden Autumn education aid", True),
    ("housing_aid", "backstop", "住房救助", "Housing aid", True),
    ("warmth_visit", "regular", "送温暖慰问", "Warmth visit and gifts", True),
    ("legal_aid", "regular", "法律援助", "Legal aid", False),
    ("living_subsidy", "regular", "定期生活补助", "Regular living subsidy", True),
]

# Cause code (dossiers.choices.Cause) → measure types proposed, in order.
SUGGESTIONS = {
    1: ["dibao_enrolment", "extreme_poverty_support", "living_subsidy"],  # 无劳动能力
    2: ["job_referral", "skills_training", "public_welfare_job", "entrepreneurship"],  # 有劳动能力未就业
    3: ["job_referral", "skills_training", "entrepreneurship", "small_loan", "unemployment_enrolment"],  # 下岗失业
    4: ["pension_enrolment", "medical_enrolment"],  # 未参保
    5: ["benefits_owed", "contribution_arrears", "legal_aid"],  # 社保待遇未落实
    6: ["medical_mutual_aid", "serious_illness_insurance", "medical_relief"],  # 重特大疾病
    7: ["disaster_relief", "temporary_relief", "housing_aid"],  # 自然灾害
    8: ["temporary_relief", "medical_relief", "work_injury_enrolment"],  # 意外事故
    9: ["education_aid", "sunshine_employment"],  # 子女上学
    10: ["warmth_visit", "temporary_relief"],  # 其他
}


def load(apps, schema_editor):
    MeasureType = apps.get_model("assistance", "MeasureType")
    CauseSuggestion = apps.get_model("assistance", "CauseSuggestion")
    by_code = {}
    for position, (code, batch, name, name_en, money) in enumerate(MEASURE_TYPES, start=1):
        by_code[code] = MeasureType.objects.create(code=code, batch=batch, name=name, name_en=name_en,
                                                   involves_money=money, position=position)
    CauseSuggestion.objects.bulk_create([
        CauseSuggestion(cause=cause, measure_type=by_code[code], position=position)
        for cause, codes in SUGGESTIONS.items() for position, code in enumerate(codes, start=1)])


def unload(apps, schema_editor):
    apps.get_model("assistance", "CauseSuggestion").objects.all().delete()
    apps.get_model("assistance", "MeasureType").objects.filter(code__in=[row[0] for row in MEASURE_TYPES]).delete()


class Migration(migrations.Migration):
    dependencies = [("assistance", "0001_measure_types")]

    operations = [migrations.RunPython(load, unload)]
