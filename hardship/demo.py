"""Demo data: the real union tree, grassroots units in two demo counties, one account per role.

The two demo counties are neighbours in 郑州市 (中原区 and 金水区), so the demo shows scoping:
the 中原区 caseworker never sees 金水区, the 郑州市 supervisor sees both.
"""

from django.conf import settings
from django.db import transaction

from hardship.management.commands.load_regions import load_regions
from hardship.models import Role, Union, User
from hardship.unions import create_regional_unions

DEMO_PASSWORD = "demo-2026"
DEMO_COUNTIES = ("410102", "410105")  # 中原区, 金水区 (郑州市, 河南省)

GRASSROOTS_UNITS = [
    # (code, name, kind, parent code)
    ("410102-C01", "中原区困难职工帮扶中心", Union.Kind.HELP_CENTRE, "410102"),
    ("410102-S01", "中原区林山寨街道帮扶站", Union.Kind.HELP_STATION, "410102-C01"),
    ("410102-S02", "中原区棉纺路街道帮扶站", Union.Kind.HELP_STATION, "410102-C01"),
    ("410102-J01", "郑州第一棉纺厂工会", Union.Kind.GRASSROOTS, "410102"),
    ("410102-J02", "中原区环卫工人联合工会", Union.Kind.GRASSROOTS, "410102"),
    ("410105-C01", "金水区困难职工帮扶中心", Union.Kind.HELP_CENTRE, "410105"),
    ("410105-S01", "金水区文化路街道帮扶站", Union.Kind.HELP_STATION, "410105-C01"),
    ("410105-J01", "郑州市第二建筑公司工会", Union.Kind.GRASSROOTS, "410105"),
    ("410105-J02", "金水区快递物流行业工会", Union.Kind.GRASSROOTS, "410105"),
]

# How other units reach a demo unit (the ID look-up and the import name it for a file of theirs):
# code → (contact person, phone, address). The help centres' contacts are their caseworkers.
DEMO_CONTACTS = {
    "410102": ("孙海燕", "0371-67182001", "郑州市中原区中原中路 233 号"),
    "410102-C01": ("王芳", "0371-67182345", "郑州市中原区建设西路 187 号"),
    "410102-S01": ("郭丽", "0371-67183101", ""),
    "410102-S02": ("韩磊", "0371-67183202", ""),
    "410102-J01": ("高峰", "0371-67186601", ""),
    "410102-J02": ("吴秀兰", "0371-67186702", ""),
    "410105": ("黄志强", "0371-65952001", "郑州市金水区经三路 26 号"),
    "410105-C01": ("李强", "0371-65951234", "郑州市金水区文化路 85 号"),
    "410105-S01": ("徐静", "0371-65953101", ""),
    "410105-J01": ("杨帆", "0371-65956601", ""),
    "410105-J02": ("何涛", "0371-65956702", ""),
}

DEMO_USERS = [
    # (username, full name, role, home union code)
    ("caseworker", "王芳", Role.CASEWORKER, "410102-C01"),
    ("caseworker2", "李强", Role.CASEWORKER, "410105-C01"),
    ("reviewer", "张伟", Role.CASEWORKER, "410102-C01"),
    ("reviewer2", "马丽", Role.CASEWORKER, "410105-C01"),
    ("supervisor", "赵建国", Role.SUPERVISOR, "410100"),
    ("province", "陈立新", Role.SUPERVISOR, "410000"),
    ("admin", "刘洋", Role.ADMIN, "410102"),
    ("national", "孙志远", Role.ADMIN, "100000"),
    ("security", "陈静", Role.SECURITY, "410102"),
    ("auditor", "周敏", Role.AUDITOR, "410100"),
]


# The demo's administrators, security administrator and auditor must pass a second sign-in step. Their
# authenticator has this fixed, published key (RFC 6238's own test key), so a newcomer can sign in without a
# phone: `./dev manage demo_code admin` prints the current code. Never for real accounts.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"


def give_demo_authenticator(user: User) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.get_or_create(user=user, key=DEMO_TOTP_KEY, defaults={"name": "演示验证器", "confirmed": True})


def describe_demo_users() -> list[tuple[str, str, str, str]]:
    names = dict(Union.objects.filter(code__in=[u[3] for u in DEMO_USERS]).values_list("code", "name"))
    return [(username, full_name, role.label, names.get(code, code)) for username, full_name, role, code in DEMO_USERS]


@transaction.atomic
def load_union_demo() -> str:
    """The real regions and union tree, the demo counties' grassroots units and one account per role.

    The household files are loaded on top of these by reporting.demo.load_demo (the core imports no feature app).
    """
    regions = load_regions()
    unions = create_regional_unions()
    for code, name, kind, parent_code in GRASSROOTS_UNITS:
        parent = Union.objects.get(code=parent_code)
        region = parent.region
        Union.objects.update_or_create(
            code=code, defaults={"name": name, "kind": kind, "parent": parent, "region": region},
        )
    for code, (person, phone, address) in DEMO_CONTACTS.items():
        # Only where nobody has entered a contact yet: loading the demo again keeps what an admin changed.
        Union.objects.filter(code=code, contact_person="").update(contact_person=person, contact_phone=phone,
                                                                   address=address)
    for username, full_name, role, code in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"full_name": full_name, "role": role, "home_union": Union.objects.get(code=code)},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if role in settings.OTP_REQUIRED_ROLES:
            give_demo_authenticator(user)
    return f"行政区划 {regions} 条，新建工会单位 {unions + len(GRASSROOTS_UNITS)} 个，演示账号 {len(DEMO_USERS)} 个"
