"""Shared fixtures: a small real-shaped union tree and named users in it.

    全国总工会 100000
    ├── 河南省总工会 410000
    │   └── 郑州市总工会 410100
    │       ├── 中原区总工会 410102 ── 中原区困难职工帮扶中心 410102-C01 ── 林山寨街道帮扶站 410102-S01
    │       └── 金水区总工会 410105 ── 金水区困难职工帮扶中心 410105-C01
    └── 湖北省总工会 420000 ── 武汉市总工会 420100 ── 江岸区总工会 420102
"""

import pytest

from hardship.models import Role, Union
from tests.factories import RegionFactory, UnionFactory, UserFactory

TREE = [
    # code, name, kind, parent code, region (code, name, level, parent)
    ("100000", "中华全国总工会", Union.Kind.NATIONAL, None, None),
    ("410000", "河南省总工会", Union.Kind.PROVINCE, "100000", ("410000", "河南省", "province", None)),
    ("410100", "郑州市总工会", Union.Kind.CITY, "410000", ("410100", "郑州市", "prefecture", "410000")),
    ("410102", "中原区总工会", Union.Kind.COUNTY, "410100", ("410102", "中原区", "county", "410100")),
    ("410105", "金水区总工会", Union.Kind.COUNTY, "410100", ("410105", "金水区", "county", "410100")),
    ("410102-C01", "中原区困难职工帮扶中心", Union.Kind.HELP_CENTRE, "410102", None),
    ("410102-S01", "林山寨街道帮扶站", Union.Kind.HELP_STATION, "410102-C01", None),
    ("410105-C01", "金水区困难职工帮扶中心", Union.Kind.HELP_CENTRE, "410105", None),
    ("420000", "湖北省总工会", Union.Kind.PROVINCE, "100000", ("420000", "湖北省", "province", None)),
    ("420100", "武汉市总工会", Union.Kind.CITY, "420000", ("420100", "武汉市", "prefecture", "420000")),
    ("420102", "江岸区总工会", Union.Kind.COUNTY, "420100", ("420102", "江岸区", "county", "420100")),
]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hash passwords with MD5 in every test: the deliberately slow default hasher (run for each user a
    factory makes) costs far more than the tests themselves. Users that do sign in with a password
    (tests/hardship/test_login.py, the browser journeys) are hashed and checked with it alike."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def unions(db) -> dict[str, Union]:
    made: dict[str, Union] = {}
    for code, name, kind, parent_code, region in TREE:
        region_obj = None
        if region:
            region_obj = RegionFactory(code=region[0], name=region[1], level=region[2], parent_id=region[3])
        made[code] = UnionFactory(
            code=code, name=name, kind=kind, parent=made.get(parent_code), region=region_obj or
            (made[parent_code].region if parent_code else None),
        )
    return made


def _user(username: str, role: str, union: Union, full_name: str):
    return UserFactory(username=username, role=role, home_union=union, full_name=full_name)


@pytest.fixture
def caseworker(unions):
    """A caseworker at the 中原区 help centre."""
    return _user("caseworker", Role.CASEWORKER, unions["410102-C01"], "王芳")


@pytest.fixture
def outsider(unions):
    """A caseworker of the sibling county 金水区."""
    return _user("outsider", Role.CASEWORKER, unions["410105-C01"], "李强")


@pytest.fixture
def supervisor(unions):
    """A supervisor of the 河南 provincial union: sees both counties."""
    return _user("supervisor", Role.SUPERVISOR, unions["410000"], "陈立新")


@pytest.fixture
def county_admin(unions):
    return _user("countyadmin", Role.ADMIN, unions["410102"], "刘洋")


@pytest.fixture
def national_admin(unions):
    return _user("national", Role.ADMIN, unions["100000"], "孙志远")


@pytest.fixture
def security_admin(unions):
    """安全管理员 of the 中原区 union: approves the accounts its administrator asks for (三员分立)."""
    return _user("security", Role.SECURITY, unions["410102"], "陈静")


@pytest.fixture
def auditor(unions):
    return _user("auditor", Role.AUDITOR, unions["410100"], "周敏")


@pytest.fixture
def client_for(client):
    """Log the test client in as a given user."""

    from django.contrib.auth.signals import user_logged_in

    from hardship.security.signals import AUDIT_LOGIN, signed_in

    def login(user):
        # Not a sign-in anyone made: no LOGIN access record (tests that count records count their own).
        user_logged_in.disconnect(dispatch_uid=AUDIT_LOGIN)
        try:
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        finally:
            user_logged_in.connect(signed_in, dispatch_uid=AUDIT_LOGIN)
        _pass_second_factor(client, user)
        return client

    return login


def _pass_second_factor(client, user):
    """Mark the session verified the way django_otp.login does, with a TOTP device for a role that requires one
    (tests/hardship/test_two_factor.py goes through the real step)."""
    from django.conf import settings
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None and user.role in settings.OTP_REQUIRED_ROLES:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real Celery worker process on Redis and the test database (see tests/celery_worker.py)."""
    from tests.celery_worker import start_worker, stop_worker

    with django_db_blocker.unblock():
        process, queue = start_worker()
    yield queue
    stop_worker(process)


@pytest.fixture(autouse=True)
def chinese_by_default(settings):
    """Each test starts in the default language: a request in English must not leak into the next test."""
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def measure_types(request):
    """The measure types a data migration ships. A transactional test (transaction=True) starts from a database the
    previous one flushed, so they are loaded again there, the migration's own way."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        return
    request.getfixturevalue("transactional_db")
    import importlib

    from django.apps import apps

    from assistance.models import MeasureType

    if not MeasureType.objects.exists():
        importlib.import_module("assistance.migrations.0002_reference_data").load(apps, None)
