"""Portal settings, read from the environment (django-environ).

Every variable is listed in README.md ("Configuration") and in .env.example.
A bad value stops the process at start with a message naming the variable.
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from celery.schedules import crontab
from csp.constants import NONCE as CSP_NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
_env_file = Path(os.environ.get("PORTAL_ENV_FILE", BASE_DIR / ".env"))
if _env_file.is_file():
    env.read_env(str(_env_file))

TESTING = "pytest" in sys.modules or os.environ.get("PORTAL_TESTING") == "1"
# Management commands that only read the code (never serve, sign or send anything) run on a
# bare checkout without the production secrets.
_OFFLINE_COMMANDS = {"makemigrations", "makemessages", "showmigrations", "sqlmigrate", "help"}
OFFLINE = (
    Path(sys.argv[0]).name == "manage.py" and len(sys.argv) > 1 and sys.argv[1] in _OFFLINE_COMMANDS
)


def _read(name: str, cast, default=environ.Env.NOTSET):
    """Read one variable; a value that does not parse names the variable."""
    try:
        return env.get_value(name, cast=cast, default=default)
    except ImproperlyConfigured:
        raise
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name}: invalid value ({exc})") from exc


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(name: str, default: bool) -> bool:
    """A strict boolean: true/false, yes/no, on/off, 1/0; anything else is an error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}: expected true or false, got {raw!r}")


def _secret(name: str) -> str | None:
    """A secret from NAME or from the file named by NAME_FILE (Docker/K8s secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path} ({exc})") from exc
    return _read(name, str, default=None)


def _url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ImproperlyConfigured(
            f"{name}: expected a URL starting with {' or '.join(s + '://' for s in schemes)}, "
            f"got {value!r}"
        )
    return value


DEBUG = _bool("DEBUG", False)

SECRET_KEY = _secret("SECRET_KEY")
if not SECRET_KEY and OFFLINE:
    SECRET_KEY = secrets.token_urlsafe(50)  # never used: these commands sign nothing
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "SECRET_KEY: required when DEBUG is off (set SECRET_KEY or SECRET_KEY_FILE)"
        )
    # Development only: one random key per checkout, kept under var/ so sessions survive restarts.
    _key_file = VAR_DIR / "dev-secret-key"
    if not _key_file.exists():
        _key_file.write_text(secrets.token_urlsafe(50))
    SECRET_KEY = _key_file.read_text().strip()

ALLOWED_HOSTS = _read(
    "ALLOWED_HOSTS", list, default=["localhost", "127.0.0.1", "[::1]"] if DEBUG or TESTING else []
)
if not ALLOWED_HOSTS and not (DEBUG or OFFLINE):
    raise ImproperlyConfigured("ALLOWED_HOSTS: required when DEBUG is off (comma-separated hosts)")
CSRF_TRUSTED_ORIGINS = _read("CSRF_TRUSTED_ORIGINS", list, default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "portal",
    "accounts",
    "billing",
    "telephony",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    # The second factor comes before everything else a signed-in user can reach.
    "accounts.middleware.SecondFactorRequiredMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.portal",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
try:
    DATABASES = {
        "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")
    }
except (ImproperlyConfigured, KeyError, ValueError) as exc:
    raise ImproperlyConfigured(f"DATABASE_URL: invalid value ({exc})") from exc
if DATABASES["default"]["ENGINE"] not in set(environ.Env.DB_SCHEMES.values()):
    raise ImproperlyConfigured(
        f"DATABASE_URL: unknown database scheme {DATABASES['default']['ENGINE']!r} "
        "(use postgres://, sqlite:///, mysql://)"
    )
DATABASES["default"].setdefault("CONN_MAX_AGE", _read("CONN_MAX_AGE", int, default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat share the demo database. IMMEDIATE
    # transactions take the write lock when they begin, so two of them queue (up to
    # ``timeout``) instead of one failing with "database is locked" when both try to turn
    # a read into a write (two tabs accepting one invitation at once).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
        }
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery ---------------------------------------------------------------------
REDIS_URL = _read("REDIS_URL", str, default="") or ""
if REDIS_URL:
    _url("REDIS_URL", REDIS_URL, ("redis", "rediss", "unix"))
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal",
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
elif TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
else:
    # Embedded defaults: no server needed. The file-system transport is shared by the web
    # process and the worker through var/celery/; the cache (sync locks) through var/cache/.
    _broker_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

# Rendered markup that is a function of its cache key alone (a chart keyed by every bar it
# draws, links keyed by the language): kept in each web process's own memory, so reading it
# back is no round trip to Redis or the disk, and never stale, so no process has to be told.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
    "TIMEOUT": 3600,
    "OPTIONS": {"MAX_ENTRIES": 1000},
}

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = False

# Intervals of the background jobs, in seconds (README "Background jobs").
SYNC_DISCOVERY_INTERVAL = _read("SYNC_DISCOVERY_INTERVAL", int, default=3600)
SYNC_BALANCES_INTERVAL = _read("SYNC_BALANCES_INTERVAL", int, default=60)
SYNC_CDRS_INTERVAL = _read("SYNC_CDRS_INTERVAL", int, default=300)
SYNC_PAYMENTS_INTERVAL = _read("SYNC_PAYMENTS_INTERVAL", int, default=3600)
SYNC_RECONCILE_INTERVAL = _read("SYNC_RECONCILE_INTERVAL", int, default=180)
SYNC_ALERTS_INTERVAL = _read("SYNC_ALERTS_INTERVAL", int, default=300)
SYNC_REPORTS_HOUR = _read("SYNC_REPORTS_HOUR", int, default=2)
SYNC_RATES_HOUR = _read("SYNC_RATES_HOUR", int, default=1)
SYNC_BALANCE_BATCH = _read("SYNC_BALANCE_BATCH", int, default=200)
CDR_RETENTION_DAYS = _read("CDR_RETENTION_DAYS", int, default=400)

CELERY_BEAT_SCHEDULE = {
    "discovery": {
        "task": "telephony.tasks.discovery_all",
        "schedule": timedelta(seconds=SYNC_DISCOVERY_INTERVAL),
    },
    "balances": {
        "task": "telephony.tasks.balances_all",
        "schedule": timedelta(seconds=SYNC_BALANCES_INTERVAL),
    },
    "cdrs": {
        "task": "telephony.tasks.cdrs_all",
        "schedule": timedelta(seconds=SYNC_CDRS_INTERVAL),
    },
    "payments": {
        "task": "billing.tasks.pay_history_all",
        "schedule": timedelta(seconds=SYNC_PAYMENTS_INTERVAL),
    },
    "reports": {
        "task": "billing.tasks.fee_reports_all",
        "schedule": crontab(hour=SYNC_REPORTS_HOUR, minute=17),
    },
    "reconcile": {
        "task": "billing.tasks.reconcile_unknown",
        "schedule": timedelta(seconds=SYNC_RECONCILE_INTERVAL),
    },
    "online": {
        "task": "billing.tasks.online_sweep",
        "schedule": timedelta(seconds=SYNC_RECONCILE_INTERVAL),
    },
    "alerts": {
        "task": "billing.tasks.low_balance_alerts",
        "schedule": timedelta(seconds=SYNC_ALERTS_INTERVAL),
    },
    "webhooks": {
        "task": "billing.tasks.webhooks_due",
        "schedule": timedelta(seconds=60),
    },
    "rates": {
        "task": "telephony.tasks.rates_all",
        "schedule": crontab(hour=SYNC_RATES_HOUR, minute=29),
    },
    "retention": {
        "task": "telephony.tasks.cdr_retention",
        "schedule": crontab(hour=3, minute=41),
    },
    "cdr-partitions": {
        "task": "telephony.tasks.cdr_partitions_ahead",
        "schedule": crontab(hour=3, minute=11),
    },
}

# --- VOS3000 ---------------------------------------------------------------------------------
VOS_URL = _read("VOS_URL", str, default="") or ""
if VOS_URL:
    _url("VOS_URL", VOS_URL, ("http", "https"))
VOS_SERVER_NAME = _read("VOS_SERVER_NAME", str, default="default")
VOS_TIMEOUT = _read("VOS_TIMEOUT", float, default=10.0)
VOS_CONNECT_TIMEOUT = _read("VOS_CONNECT_TIMEOUT", float, default=3.0)
if VOS_TIMEOUT <= 0 or VOS_CONNECT_TIMEOUT <= 0:
    raise ImproperlyConfigured("VOS_TIMEOUT / VOS_CONNECT_TIMEOUT: must be positive seconds")
VOS_TIME_ZONE = _read("VOS_TIME_ZONE", str, default="UTC")
# Page reads never wait on VOS longer than this; past it the last known figure is shown.
VOS_PAGE_TIMEOUT = _read("VOS_PAGE_TIMEOUT", float, default=2.0)
# How long a top-up or deduction request waits for the switch before the receipt says the
# payment is being confirmed (the worker finishes it; docs/MONEY.md).
TOPUP_WAIT_SECONDS = _read("TOPUP_WAIT_SECONDS", float, default=5.0)
# Calling-card top-ups: failed attempts (wrong number or password, used or expired card) per
# user and per address within the window before a lock-out of CARD_LOCKOUT_SECONDS.
CARD_MAX_FAILURES = _read("CARD_MAX_FAILURES", int, default=5)
CARD_FAILURE_WINDOW_SECONDS = _read("CARD_FAILURE_WINDOW_SECONDS", int, default=3600)
CARD_LOCKOUT_SECONDS = _read("CARD_LOCKOUT_SECONDS", int, default=3600)
# Phones: the monthly spending cap a customer may set when their reseller set no ceiling;
# "On a call now" reads GetCurrentCall at most this often per account (the manual: costly).
PHONE_CAP_DEFAULT_CEILING = _read("PHONE_CAP_DEFAULT_CEILING", Decimal, default=Decimal("500"))
CURRENT_CALLS_CACHE_SECONDS = max(30, _read("CURRENT_CALLS_CACHE_SECONDS", int, default=30))
# One-time sign-in links a reseller sends a customer: valid this long, used once.
SIGNIN_LINK_MAX_AGE_SECONDS = _read("SIGNIN_LINK_MAX_AGE_SECONDS", int, default=15 * 60)
# The one total budget a request that writes to the switch (lock, overdraft limit, create
# customer, activation by number, phone-book writes) has for all of its VOS calls together.
# gunicorn's --timeout (docs/DEPLOY.md) must stay well above it and TOPUP_WAIT_SECONDS.
VOS_WRITE_BUDGET_SECONDS = _read("VOS_WRITE_BUDGET_SECONDS", float, default=8.0)
# A phone-book import (up to 2,000 writes) stops sending when this is spent and says where.
PHONEBOOK_IMPORT_BUDGET_SECONDS = _read("PHONEBOOK_IMPORT_BUDGET_SECONDS", float, default=20.0)
# A filtered call list's totals (a number search adds up every matching call of the window)
# stop after this long; the page then says so and offers fewer days.
CALLS_TOTALS_BUDGET_SECONDS = _read("CALLS_TOTALS_BUDGET_SECONDS", float, default=3.0)
for _name, _budget in (
    ("PHONEBOOK_IMPORT_BUDGET_SECONDS", PHONEBOOK_IMPORT_BUDGET_SECONDS),
    ("CALLS_TOTALS_BUDGET_SECONDS", CALLS_TOTALS_BUDGET_SECONDS),
    ("VOS_PAGE_TIMEOUT", VOS_PAGE_TIMEOUT),
    ("TOPUP_WAIT_SECONDS", TOPUP_WAIT_SECONDS),
    ("VOS_WRITE_BUDGET_SECONDS", VOS_WRITE_BUDGET_SECONDS),
):
    if not 0 < _budget <= 25:
        raise ImproperlyConfigured(f"{_name}: between 0 and 25 seconds (gunicorn's timeout is 30)")
# The dashboard asks VOS live only when the mirror's figures are older than this (the balance
# job refreshes them every minute, pushes at once).
DASHBOARD_REFRESH_AFTER_SECONDS = _read("DASHBOARD_REFRESH_AFTER_SECONDS", int, default=30)

# How far around a lost Pay's send time reconciliation looks in the VOS pay history (clock skew).
LEDGER_RECONCILE_MARGIN_SECONDS = _read("LEDGER_RECONCILE_MARGIN_SECONDS", int, default=120)

# --- HTTP API and webhooks (docs/API.md) ----------------------------------------------------
# Per-key limits, "N/s" (burst) and "N/m" (sustained): 20 a second, 5 a second over a minute.
API_RATE_BURST = _read("API_RATE_BURST", str, default="20/s")
API_RATE_SUSTAINED = _read("API_RATE_SUSTAINED", str, default="300/m")
for _name in ("API_RATE_BURST", "API_RATE_SUSTAINED"):
    _count, _slash, _period = globals()[_name].partition("/")
    if not _count.isdigit() or _period not in ("s", "m", "h"):
        raise ImproperlyConfigured(f"{_name}: use N/s, N/m or N/h")
# Webhook URLs may be http:// and resolve to loopback: tests and the demo only.
WEBHOOK_ALLOW_LOOPBACK = _bool("WEBHOOK_ALLOW_LOOPBACK", DEBUG or TESTING)

# --- Money and display -----------------------------------------------------------------------
PORTAL_CURRENCY = _read("PORTAL_CURRENCY", str, default="USD")
PORTAL_AMOUNT_DECIMALS = _read("PORTAL_AMOUNT_DECIMALS", int, default=2)
PORTAL_NAME = _read("PORTAL_NAME", str, default="VOS Portal")
# Where the portal is reached, for links in e-mails sent outside a request (tasks, shell).
PORTAL_BASE_URL = _read("PORTAL_BASE_URL", str, default="http://localhost:8000").rstrip("/")
_url("PORTAL_BASE_URL", PORTAL_BASE_URL, ("http", "https"))
LOW_BALANCE_DEFAULT = _read("LOW_BALANCE_DEFAULT", str, default="5")


def _check_amount(name: str, value: str) -> None:
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0:
        raise ImproperlyConfigured(f"{name}: expected a positive amount, got {value!r}")


# --- Online payments (docs/MONEY.md, "Online payments") ----------------------------------------
# "stripe" (Checkout: cards, Alipay, WeChat Pay), "test" (the portal's own test gateway page;
# never with DEBUG off), or empty: DEBUG uses the test gateway, production turns the feature off.
ONLINE_PAYMENTS_PROVIDER = (_read("ONLINE_PAYMENTS_PROVIDER", str, default="") or "").strip()
if not ONLINE_PAYMENTS_PROVIDER and DEBUG:
    ONLINE_PAYMENTS_PROVIDER = "test"
if ONLINE_PAYMENTS_PROVIDER not in ("", "stripe", "test"):
    raise ImproperlyConfigured(
        "ONLINE_PAYMENTS_PROVIDER: expected stripe, test or empty, "
        f"got {ONLINE_PAYMENTS_PROVIDER!r}"
    )
if ONLINE_PAYMENTS_PROVIDER == "test" and not (DEBUG or TESTING):
    raise ImproperlyConfigured("ONLINE_PAYMENTS_PROVIDER: the test gateway needs DEBUG on")
STRIPE_SECRET_KEY = _secret("STRIPE_SECRET_KEY") or ""
STRIPE_WEBHOOK_SECRET = _secret("STRIPE_WEBHOOK_SECRET") or ""
if ONLINE_PAYMENTS_PROVIDER == "stripe" and not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET):
    raise ImproperlyConfigured(
        "STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET: "
        "both required when ONLINE_PAYMENTS_PROVIDER=stripe"
    )
# Checkout's payment method types (Stripe names): card, alipay, wechat_pay.
ONLINE_PAYMENTS_METHODS = _read(
    "ONLINE_PAYMENTS_METHODS", list, default=["card", "alipay", "wechat_pay"]
)
ONLINE_PAYMENTS_CURRENCY = (
    _read("ONLINE_PAYMENTS_CURRENCY", str, default=PORTAL_CURRENCY) or PORTAL_CURRENCY
).upper()
ONLINE_PAYMENTS_MIN = _read("ONLINE_PAYMENTS_MIN", str, default="5")
ONLINE_PAYMENTS_MAX = _read("ONLINE_PAYMENTS_MAX", str, default="500")
# Per customer and day (TIME_ZONE): open, paid and credited payments count.
ONLINE_PAYMENTS_DAILY_LIMIT = _read("ONLINE_PAYMENTS_DAILY_LIMIT", str, default="1000")
ONLINE_PAYMENTS_PRESETS = _read("ONLINE_PAYMENTS_PRESETS", list, default=["10", "20", "50", "100"])
for _name in ("ONLINE_PAYMENTS_MIN", "ONLINE_PAYMENTS_MAX", "ONLINE_PAYMENTS_DAILY_LIMIT"):
    _check_amount(_name, globals()[_name])
for _preset in ONLINE_PAYMENTS_PRESETS:
    _check_amount("ONLINE_PAYMENTS_PRESETS", _preset)
# Shown instead of the form when online payments are off (how else to top up).
ONLINE_PAYMENTS_OFF_TEXT = _read("ONLINE_PAYMENTS_OFF_TEXT", str, default="")
# Refunds and chargebacks: deducted at once (true) or held for staff review in the admin.
ONLINE_REFUNDS_AUTO = _bool("ONLINE_REFUNDS_AUTO", False)
# Seconds the portal waits for the gateway when it creates a checkout.
ONLINE_GATEWAY_TIMEOUT = _read("ONLINE_GATEWAY_TIMEOUT", float, default=8.0)
# Notifications accepted per client address and minute (more get 429; the gateway retries).
ONLINE_WEBHOOK_RATE = _read("ONLINE_WEBHOOK_RATE", int, default=120)

# --- Auth, sessions, security -----------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Passwordless sign-in with a passkey (django-otp-webauthn).
    "django_otp_webauthn.backends.WebAuthnBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
INVITATION_MAX_AGE_DAYS = _read("INVITATION_MAX_AGE_DAYS", int, default=7)

# Second factor (docs/ACCOUNTS.md, "Two-factor sign-in"). Roles that must have one: a login of
# such a role without a device is sent to enrolment after its password and reaches nothing
# else until it has one. Any login that has a device must use it, whatever its role.
MFA_REQUIRED_ROLES = [
    role.strip().lower()
    for role in _read("MFA_REQUIRED_ROLES", str, default="staff,reseller").split(",")
    if role.strip()
]
if unknown := set(MFA_REQUIRED_ROLES) - {"staff", "reseller", "customer"}:
    raise ImproperlyConfigured(
        f"MFA_REQUIRED_ROLES: unknown role(s) {', '.join(sorted(unknown))} "
        "(expected staff, reseller, customer)"
    )
MFA_RECOVERY_CODES = _read("MFA_RECOVERY_CODES", int, default=10)
# The name authenticator apps show next to the code.
OTP_TOTP_ISSUER = PORTAL_NAME
# Passkeys are bound to a host name (the relying party) and accepted only from the portal's
# own origin; both default to PORTAL_BASE_URL. Changing the host later makes every registered
# passkey useless (WebAuthn cannot move them).
_portal_origin = urlsplit(PORTAL_BASE_URL)
OTP_WEBAUTHN_RP_ID = _read("OTP_WEBAUTHN_RP_ID", str, default=_portal_origin.hostname or "")
OTP_WEBAUTHN_RP_NAME = PORTAL_NAME
OTP_WEBAUTHN_ALLOWED_ORIGINS = _read(
    "OTP_WEBAUTHN_ALLOWED_ORIGINS",
    list,
    default=[f"{_portal_origin.scheme}://{_portal_origin.netloc}"],
)

# Failed logins are throttled per user and per IP (django-axes).
AXES_FAILURE_LIMIT = _read("AXES_FAILURE_LIMIT", int, default=5)
AXES_COOLOFF_TIME = timedelta(minutes=_read("AXES_COOLOFF_MINUTES", int, default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# Proxies in front of the portal whose X-Forwarded-For is believed (0: none, ignore it).
TRUSTED_PROXY_COUNT = _read("TRUSTED_PROXY_COUNT", int, default=0)
AXES_CLIENT_IP_CALLABLE = "telephony.net.client_ip"

_secure_default = not (DEBUG or TESTING)
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", _secure_default)
SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", _secure_default)
CSRF_COOKIE_SECURE = _bool("CSRF_COOKIE_SECURE", _secure_default)
SECURE_HSTS_SECONDS = _read("SECURE_HSTS_SECONDS", int, default=31536000 if _secure_default else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", _secure_default)
if _bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Sessions are read from the cache (Redis in production) and written through to the
# database: one query less on every page, and logins survive a cache flush.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = _read("SESSION_COOKIE_AGE", int, default=60 * 60 * 12)
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp) on every response: scripts only from our own static
# files or an inline <script nonce="{{ CSP_NONCE }}">; nothing from other hosts at all.
# Inline script hashes: the top-up confirm page's one-click guard (its sha256 is checked
# against the template by tests/portal/test_security_headers.py; a nonce or a static file
# replaces it once that page changes). Styles allow inline ``style=""`` attributes (the admin
# and a few templates use them; styles cannot run code).
CSP_INLINE_SCRIPT_HASHES = ["'sha256-wNmIy2V8C268PZEs+527Pw7pheCMEn8G15C+yN1ra1I='"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", CSP_NONCE, *CSP_INLINE_SCRIPT_HASHES],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Permissions-Policy (portal.middleware): the portal uses no device feature at all.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)

# --- I18N ------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文"), ("zh-hant", "繁體中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date style per language (ISO dates, 24-hour times): portal/formats/<lang>/formats.py.
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = _read("TIME_ZONE", str, default="UTC")
for _name, _tz in (("TIME_ZONE", TIME_ZONE), ("VOS_TIME_ZONE", VOS_TIME_ZONE)):
    try:
        ZoneInfo(_tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ImproperlyConfigured(f"{_name}: unknown time zone {_tz!r}") from exc
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(_read("STATIC_ROOT", str, default=str(BASE_DIR / "staticfiles")))
if DEBUG or TESTING:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing one
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- E-mail ----------------------------------------------------------------------------------
try:
    vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
except (ImproperlyConfigured, KeyError, ValueError) as exc:
    raise ImproperlyConfigured(f"EMAIL_URL: invalid value ({exc})") from exc
DEFAULT_FROM_EMAIL = _read("DEFAULT_FROM_EMAIL", str, default="portal@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Logging ---------------------------------------------------------------------------------
LOG_LEVEL = _read("LOG_LEVEL", str, default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        "telephony.vos": {"level": LOG_LEVEL},
    },
}
