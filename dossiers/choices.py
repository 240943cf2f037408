"""The vocabulary of the household file (困难职工档案表), as stored codes with Chinese labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    RETURNED = "returned", _("退回修改")
    SUBMITTED = "submitted", _("待初审")
    FIRST_REVIEWED = "first_reviewed", _("待入户调查")
    VISITED = "visited", _("待复核")
    REVIEWED = "reviewed", _("待民政核对")
    CIVIL_CHECKED = "civil_checked", _("待公示")
    IN_NOTICE = "in_notice", _("公示中")
    REGISTERED = "registered", _("在档")
    EXIT_PROPOSED = "exit_proposed", _("退出待审批")
    EXITED = "exited", _("已脱困")
    RELIEVED = "relieved", _("已解困")
    REMOVED = "removed", _("已注销")
    WITHDRAWN = "withdrawn", _("已撤回申请")
    DECLINED = "declined", _("不予建档")


# Files that left the register (exits), and applications that never reached it.
EXIT_STATUSES = (Status.EXITED, Status.RELIEVED, Status.REMOVED)
ENDED_APPLICATION_STATUSES = (Status.WITHDRAWN, Status.DECLINED)
# A closed file holds none of its members: they may be filed elsewhere (see member_is_open).
CLOSED_STATUSES = (*EXIT_STATUSES, *ENDED_APPLICATION_STATUSES)
EDITABLE_STATUSES = (Status.DRAFT, Status.RETURNED)
ON_REGISTER_STATUSES = (Status.REGISTERED, Status.EXIT_PROPOSED)


class Category(models.TextChoices):
    """困难类别: what a file is registered under."""

    DEEP = "deep", _("深度困难")
    RELATIVE = "relative", _("相对困难")
    ACCIDENT = "accident", _("意外致困")


class Outcome(models.TextChoices):
    """认定结果 of the income test (dossiers.assessment): a category, or not eligible, under which no file is
    registered. The categories are Category's own values and labels (Outcome.DEEP == Category.DEEP)."""

    DEEP = Category.DEEP.value, Category.DEEP.label
    RELATIVE = Category.RELATIVE.value, Category.RELATIVE.label
    ACCIDENT = Category.ACCIDENT.value, Category.ACCIDENT.label
    NOT_ELIGIBLE = "not_eligible", _("不符合建档标准")


class Cause(models.IntegerChoices):
    """致困原因: codes 1–10 as the national file form numbers them."""

    NO_WORK_CAPACITY = 1, _("无劳动能力")
    ABLE_BUT_UNEMPLOYED = 2, _("有劳动能力未就业")
    LAID_OFF = 3, _("下岗失业")
    UNINSURED = 4, _("未参保")
    BENEFITS_NOT_PAID = 5, _("社保待遇未落实")
    SERIOUS_ILLNESS = 6, _("重特大疾病")
    NATURAL_DISASTER = 7, _("自然灾害")
    ACCIDENT = 8, _("意外事故")
    SCHOOLING = 9, _("子女上学")
    OTHER = 10, _("其他")


class HousingType(models.TextChoices):
    OWN = "own", _("自有住房")
    PUBLIC_RENTAL = "public_rental", _("公租房")
    LOW_RENT = "low_rent", _("廉租房")
    PRIVATE_RENTAL = "private_rental", _("租赁私房")
    BORROWED = "borrowed", _("借住")
    OTHER = "other", _("其他")


class AreaBand(models.TextChoices):
    UNDER_15 = "under_15", _("人均 15㎡ 以下")
    FROM_15_TO_30 = "15_30", _("人均 15–30㎡")
    FROM_30_TO_50 = "30_50", _("人均 30–50㎡")
    OVER_50 = "over_50", _("人均 50㎡ 以上")


class ModelWorker(models.TextChoices):
    NONE = "", _("否")
    NATIONAL = "national", _("全国劳模")
    PROVINCIAL = "provincial", _("省部级劳模")
    CITY = "city", _("地市级劳模")
    UNSPECIFIED = "unspecified", _("劳模（级别未注明）")  # a legacy register's 是否劳模 = 是


class KeyGroup(models.TextChoices):
    NONE = "", _("无")
    AIDED_STILL_HARD = "aided_still_hard", _("享受政府救助仍有特殊困难")
    NEAR_LINE = "near_line", _("低保边缘家庭或劳模困难家庭")
    ILLNESS = "illness", _("因病致困家庭")
    DISASTER = "disaster", _("因灾或突发事件致困家庭")
    MIGRANT = "migrant", _("农民工困难家庭")


class LegacyTier(models.TextChoices):
    NONE = "", _("无")
    NATIONAL = "national", _("全国级")
    PROVINCIAL = "provincial", _("省级")
    CITY = "city", _("地市级")
    COUNTY = "county", _("区县级")
    GRASSROOTS = "grassroots", _("基层")


class LegacyCategory(models.TextChoices):
    NONE = "", _("无")
    DIBAO = "dibao", _("低保户")
    NEAR_DIBAO = "near_dibao", _("低保边缘户")
    ACCIDENT = "accident", _("意外致困户")


class Exclusion(models.TextChoices):
    """排除情形: any one makes a household not eligible, whatever its income."""

    COMPANY = "company", _("家庭成员控制企业")
    HOMES = "homes", _("拥有两套以上超当地标准住房")
    VEHICLE = "vehicle", _("拥有机动车（残疾人代步车除外）")
    SCHOOLING = "schooling", _("子女高收费择校或自费留学")
    CONCEALMENT = "concealment", _("拒绝调查或隐瞒收入")
    REFUSES_WORK = "refuses_work", _("有劳动能力成员拒绝就业")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Relationship(models.TextChoices):
    SELF = "self", _("本人")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    SIBLING = "sibling", _("兄弟姐妹")
    GRANDCHILD = "grandchild", _("孙子女")
    GRANDPARENT = "grandparent", _("祖父母")
    OTHER = "other", _("其他")


class Health(models.TextChoices):
    HEALTHY = "healthy", _("健康")
    CHRONIC = "chronic", _("慢性病")
    SERIOUS = "serious", _("重大疾病")
    DISABLED = "disabled", _("残疾")


class Disability(models.TextChoices):
    NONE = "", _("无")
    VISUAL = "visual", _("视力残疾")
    HEARING = "hearing", _("听力残疾")
    SPEECH = "speech", _("言语残疾")
    PHYSICAL = "physical", _("肢体残疾")
    INTELLECTUAL = "intellectual", _("智力残疾")
    MENTAL = "mental", _("精神残疾")
    MULTIPLE = "multiple", _("多重残疾")


class MedicalInsurance(models.TextChoices):
    EMPLOYEE = "employee", _("职工医保")
    RESIDENT = "resident", _("城乡居民医保")
    NONE = "none", _("未参保")
    UNSPECIFIED = "insured", _("已参保（类型未注明）")  # a legacy register's 是否参保 = 是


class WorkStatus(models.TextChoices):
    EMPLOYED = "employed", _("在岗")
    LAID_OFF = "laid_off", _("下岗")
    UNEMPLOYED = "unemployed", _("失业")
    RETIRED = "retired", _("退休")
    SICK_LEAVE = "sick_leave", _("病休")
    EARLY_RETIRED = "early_retired", _("内退")
    MIGRANT = "migrant", _("农民工")
    STUDENT = "student", _("在校")
    PRESCHOOL = "preschool", _("学龄前")
    NONE = "none", _("无业")


# Work statuses that count as "not working" for the minimum-wage imputation and 零就业家庭.
NOT_WORKING = (WorkStatus.LAID_OFF, WorkStatus.UNEMPLOYED, WorkStatus.NONE)

ETHNIC_GROUPS = {  # GB/T 3304 names as stored, each with its translated label
    "汉族": _("汉族"), "蒙古族": _("蒙古族"), "回族": _("回族"), "藏族": _("藏族"), "维吾尔族": _("维吾尔族"),
    "苗族": _("苗族"), "彝族": _("彝族"), "壮族": _("壮族"), "布依族": _("布依族"), "朝鲜族": _("朝鲜族"),
    "满族": _("满族"), "侗族": _("侗族"), "瑶族": _("瑶族"), "白族": _("白族"), "土家族": _("土家族"),
    "哈尼族": _("哈尼族"), "哈萨克族": _("哈萨克族"), "傣族": _("傣族"), "黎族": _("黎族"), "傈僳族": _("傈僳族"),
    "佤族": _("佤族"), "畲族": _("畲族"), "高山族": _("高山族"), "拉祜族": _("拉祜族"), "水族": _("水族"),
    "东乡族": _("东乡族"), "纳西族": _("纳西族"), "景颇族": _("景颇族"), "柯尔克孜族": _("柯尔克孜族"),
    "土族": _("土族"), "达斡尔族": _("达斡尔族"), "仫佬族": _("仫佬族"), "羌族": _("羌族"), "布朗族": _("布朗族"),
    "撒拉族": _("撒拉族"), "毛南族": _("毛南族"), "仡佬族": _("仡佬族"), "锡伯族": _("锡伯族"), "阿昌族": _("阿昌族"),
    "普米族": _("普米族"), "塔吉克族": _("塔吉克族"), "怒族": _("怒族"), "乌孜别克族": _("乌孜别克族"),
    "俄罗斯族": _("俄罗斯族"), "鄂温克族": _("鄂温克族"), "德昂族": _("德昂族"), "保安族": _("保安族"),
    "裕固族": _("裕固族"), "京族": _("京族"), "塔塔尔族": _("塔塔尔族"), "独龙族": _("独龙族"),
    "鄂伦春族": _("鄂伦春族"), "赫哲族": _("赫哲族"), "门巴族": _("门巴族"), "珞巴族": _("珞巴族"),
    "基诺族": _("基诺族"),
}
ETHNIC_CHOICES = list(ETHNIC_GROUPS.items())
