"""iBOK settings, read from the environment (12-factor).

Nothing here has a working secret outside DEBUG: a production start without DJANGO_SECRET_KEY fails.
See docs/operations.md for every variable.
"""

import os
from datetime import timedelta
from decimal import Decimal
from email.utils import getaddresses
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for local development).")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
VAR_DIR = Path(os.environ.get("IBOK_VAR_DIR", BASE_DIR / "var"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # index expressions with operator classes (pg_trgm), trigram lookups
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",  # the mobile app's sign-in (accounts/headless.py)
    "django_recaptcha",
    "phonenumber_field",
    "import_export",
    "csp",
    "getpaid",
    "core",
    "accounts",
    "meters",
    "billing",
    "tickets",
    "einvoice",
    "notices",
    "ninja",
    "api",
]
# The simulated billing system and its commands (demo/): for the demo, the tests and the benches, never production.
IBOK_DEMO = env_bool("IBOK_DEMO", default=DEBUG)
if IBOK_DEMO:
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    "portal.probes.ReadinessProbeMiddleware",  # first: a probe's Host is the pod's address, and plain http
    "portal.metrics.request_latency",  # first, so it times the whole stack (/metrics)
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.AllowedMethodsMiddleware",  # PUT, DELETE, TRACE, OPTIONS …: 405 everywhere
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.SessionIdleTimeoutMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",  # after messages: it says why the user is signed out
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffMfaRequiredMiddleware",
    "accounts.middleware.TermsAcceptanceMiddleware",
]

ROOT_URLCONF = "ibok.urls"
WSGI_APPLICATION = "ibok.wsgi.application"

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
                "csp.context_processors.nonce",
                "portal.context_processors.portal",
            ],
        },
    },
]

# Database: embedded SQLite unless DATABASE_URL names a server (PostgreSQL through psycopg 3).
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'ibok.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: the cache, Celery's broker and result store. Without it, the embedded demo (scripts/demo) runs a real
# Celery worker and beat on kombu's filesystem transport in IBOK_BROKER_DIR, and its processes share a cache in
# files; with neither, tasks run in-process (a single-process development server, the tests' default).
REDIS_URL = os.environ.get("REDIS_URL", "")
IBOK_BROKER_DIR = "" if REDIS_URL or os.environ.get("IBOK_BROKER_URL") else os.environ.get("IBOK_BROKER_DIR", "")
if REDIS_URL:
    # Fails open (core/cache.py): while Redis is away pages answer, with no cache, rather than raise; short
    # timeouts so that a Redis that hangs costs a page half a second, not the worker.
    CACHES = {
        "default": {
            "BACKEND": "core.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
elif IBOK_BROKER_DIR:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# How long a page fragment cached under its customers' data version (core.versions) stays in memory. Not a
# freshness limit: any change to the data gives the page a new key at once.
IBOK_FRAGMENT_CACHE_SECONDS = env_int("IBOK_FRAGMENT_CACHE_SECONDS", 24 * 3600)

# The broker may be a Redis of its own (IBOK_BROKER_URL); by default the same as the cache.
if IBOK_BROKER_DIR:
    Path(IBOK_BROKER_DIR).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": IBOK_BROKER_DIR, "data_folder_out": IBOK_BROKER_DIR}
else:
    CELERY_BROKER_URL = os.environ.get("IBOK_BROKER_URL") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"  # no broker at all: tasks run in the process
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = "Europe/Warsaw"
# Queues by kind, a worker (or a pool of them) per queue, so that a monthly billing run or a sync never delays
# a password-reset mail: "interactive" for what a person waits for (account and case mails, an on-demand sync, a
# PDF asked for now), "bulk" for e-invoice delivery, reminders and announcements, "sync" for the billing loop.
# An exact task name wins over a pattern; a task no route names goes to the default queue, "interactive".
IBOK_TASK_QUEUES = ("interactive", "bulk", "sync")
IBOK_TASK_ROUTES = {
    "billing.tasks.customer_sync": {"queue": "interactive"},
    "billing.tasks.invoice_pdf_render": {"queue": "interactive"},
    "einvoice.tasks.verification_email_send": {"queue": "interactive"},
    "accounts.tasks.*": {"queue": "interactive"},
    "tickets.tasks.*": {"queue": "interactive"},
    "einvoice.tasks.*": {"queue": "bulk"},
    "notices.tasks.*": {"queue": "bulk"},
    "billing.tasks.*": {"queue": "sync"},
    "core.tasks.outbox_deliver": {"queue": "sync"},
}
CELERY_TASK_DEFAULT_QUEUE = "interactive"
CELERY_TASK_ROUTES = IBOK_TASK_ROUTES
CELERY_BEAT_SCHEDULE: dict = {
    "billing-sync": {
        "task": "billing.tasks.billing_sync",
        "schedule": timedelta(minutes=env_int("IBOK_SYNC_INTERVAL_MINUTES", 60)),
    },
    "billing-sync-watchdog": {"task": "billing.tasks.sync_watchdog", "schedule": timedelta(minutes=15)},
    "outbox-deliver": {"task": "core.tasks.outbox_deliver", "schedule": timedelta(minutes=1)},
    # Queued tasks whose kick after commit did not reach the broker (core.jobs), and the workers' heartbeat.
    "outbox-relay": {
        "task": "core.tasks.outbox_relay",
        "schedule": timedelta(seconds=env_int("IBOK_OUTBOX_RELAY_SECONDS", 60)),
    },
    "heartbeat": {"task": "core.tasks.heartbeat", "schedule": timedelta(seconds=env_int("IBOK_HEARTBEAT_SECONDS", 60))},
    # The keys of sent e-mails (core.SentEmail), kept two weeks against a second sending.
    "sent-emails-purge": {"task": "core.tasks.sent_emails_purge", "schedule": timedelta(days=1)},
    # e-Invoices: registrations whose signal was lost, invoices without a delivery, sends cut off mid-way.
    "einvoice-sweep": {"task": "einvoice.tasks.einvoice_sweep", "schedule": timedelta(minutes=5)},
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",  # the username
    "allauth.account.auth_backends.AuthenticationBackend",  # the e-mail (allauth signs users in with it)
    "accounts.auth_backends.CustomerNumberBackend",  # any customer number the user owns
]
# Passwords after NIST SP 800-63B: a longer minimum; passphrases of IBOK_PASSPHRASE_LENGTH characters or more (any
# script, Polish letters included) skip the utilities' character-class rule; nothing containing the utility's name,
# its town, the customer number or the e-mail, nothing on the common-passwords list (Django's and a Polish one).
IBOK_PASSWORD_MIN_LENGTH = env_int("IBOK_PASSWORD_MIN_LENGTH", 10)
IBOK_PASSPHRASE_LENGTH = env_int("IBOK_PASSPHRASE_LENGTH", 16)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": IBOK_PASSWORD_MIN_LENGTH},
    },
    {"NAME": "accounts.validators.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.CharacterClassesValidator"},  # upper, lower, digit; not for passphrases
    {"NAME": "accounts.validators.ContextWordsValidator"},  # utility, town, customer number, e-mail
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "pages:dashboard"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False  # sessions end when idle and when the browser closes
# ibok_register: registration attempts and adding a customer number, per client IP and per customer number.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "ibok_register": "20/h/ip,5/h/key",
    "ibok_report": os.environ.get("IBOK_REPORT_RATE_LIMIT", "5/h/ip"),  # reports without an account (/report/)
    "ibok_report_reply": os.environ.get("IBOK_REPORT_REPLY_RATE_LIMIT", "20/h/ip,10/h/key"),  # replies through the link
}
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_CHANGE_EMAIL = True  # a new address replaces the old one once its link is clicked
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3  # also the life of the registration link
# Changing the e-mail address, the SMS phone, the second factors (and any guarded view, accounts.reauth) asks for
# the password or the second factor again when the sign-in is older than this.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("IBOK_REAUTHENTICATION_SECONDS", 5 * 60)
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
# TOTP secrets and recovery-code seeds are encrypted at rest (accounts/mfa.py): Fernet keys, comma-separated, the
# first encrypts and all decrypt (rotation). Required in production (check accounts.E002); make one with
# `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.
MFA_ADAPTER = "accounts.mfa.MfaAdapter"
IBOK_MFA_ENCRYPTION_KEYS = env_list("IBOK_MFA_ENCRYPTION_KEYS")
MFA_PASSKEY_LOGIN_ENABLED = True
# The mobile app signs in through allauth's headless API, the "app" client only (/_allauth/app/v1/, routed in
# accounts/headless.py) and gets a session token (X-Session-Token) that ends like a web session; no JWT.
HEADLESS_CLIENTS = ("app",)
HEADLESS_TOKEN_STRATEGY = "accounts.headless.SessionTokenStrategy"
# The longest a personal access token may be valid for (settings/tokens/).
IBOK_API_TOKEN_MAX_DAYS = env_int("IBOK_API_TOKEN_MAX_DAYS", 365)
MFA_TOTP_ISSUER = "iBOK"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG  # passkeys on http://localhost in development only
# Django's session store: read from the cache (Redis), written to both, the database behind it; without Redis the
# database alone.
SESSION_ENGINE = "django.contrib.sessions.backends." + ("cached_db" if REDIS_URL else "db")
SESSION_COOKIE_AGE = env_int("IBOK_SESSION_IDLE_SECONDS", 15 * 60)
# A session ends after SESSION_COOKIE_AGE of idleness: accounts.middleware.SessionIdleTimeoutMiddleware moves its
# expiry forward at most every IBOK_SESSION_REFRESH_SECONDS (so it may end up to that much sooner, never later)
# rather than writing it on every request.
IBOK_SESSION_REFRESH_SECONDS = env_int("IBOK_SESSION_REFRESH_SECONDS", 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# However active, a session ends this long after the sign-in (accounts.middleware.SessionLifetimeMiddleware).
IBOK_SESSION_MAX_AGE_SECONDS = env_int("IBOK_SESSION_MAX_AGE_SECONDS", 12 * 60 * 60)

# Language and time: Polish first; English and Ukrainian switchable.
LANGUAGE_CODE = "pl"
LANGUAGES = [("pl", _("Polish")), ("en", _("English")), ("uk", _("Ukrainian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Warsaw"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"  # never served directly: downloads go through views that check access
MEDIA_ROOT = Path(os.environ.get("IBOK_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# E-mail: SMTP from the environment; locally printed to the console of the running portal. Every message goes
# through core.emails.CountingBackend, which counts sent and failed ones for /metrics.
EMAIL_BACKEND = "core.emails.CountingBackend"
IBOK_EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
# With EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend, messages go to files in this folder.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "iBOK <ibok@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Who gets alarms (a failed or late billing sync, undeliverable outbox messages): "Name <e-mail>, ...".
ADMINS = [getaddresses([entry])[0] for entry in env_list("IBOK_ADMINS")]

# Security. Behind a TLS-terminating reverse proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# The __Host- prefix: the browser keeps these cookies only when set over HTTPS for this very host, path /, no Domain.
if SESSION_COOKIE_SECURE:
    SESSION_COOKIE_NAME = "__Host-ibok_session"
if CSRF_COOKIE_SECURE:
    CSRF_COOKIE_NAME = "__Host-ibok_csrf"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Number of reverse proxies in front of the portal; the client address is taken from X-Forwarded-For accordingly.
IBOK_TRUSTED_PROXY_COUNT = env_int("IBOK_TRUSTED_PROXY_COUNT", 0)
# Browser features no page of the portal uses (core.middleware.SecurityHeadersMiddleware).
IBOK_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=()"
ALLAUTH_TRUSTED_PROXY_COUNT = IBOK_TRUSTED_PROXY_COUNT

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# reCAPTCHA v2 on the registration form. Production needs real keys (check accounts.E001); with DEBUG Google's
# published test keys are the default (they accept every answer). IBOK_RECAPTCHA_ENABLED=0 drops the field:
# the test suite does so (no network), and an offline demo may.
IBOK_RECAPTCHA_ENABLED = env_bool("IBOK_RECAPTCHA_ENABLED", True)
RECAPTCHA_PUBLIC_KEY = os.environ.get(
    "RECAPTCHA_PUBLIC_KEY", "6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI" if DEBUG else ""
)
RECAPTCHA_PRIVATE_KEY = os.environ.get(
    "RECAPTCHA_PRIVATE_KEY", "6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe" if DEBUG else ""
)
SILENCED_SYSTEM_CHECKS = ["django_recaptcha.recaptcha_test_key_error"] if DEBUG else []

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("IBOK_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint logs each of its seven steps of every PDF at INFO ("weasyprint.progress"): warnings only.
        "weasyprint": {"level": "WARNING"},
    },
}

# The portal's own settings.
IBOK_UTILITY_NAME = os.environ.get("IBOK_UTILITY_NAME", "Miejskie Przedsiębiorstwo Wodociągów i Ciepłownictwa")
IBOK_UTILITY_NIP = os.environ.get("IBOK_UTILITY_NIP", "7952345678")
IBOK_UTILITY_ADDRESS = os.environ.get("IBOK_UTILITY_ADDRESS", "ul. Wodna 1, 00-950 Warszawa")
# The utility's town (by default the last word of its address): no password may contain it.
IBOK_UTILITY_TOWN = os.environ.get("IBOK_UTILITY_TOWN", IBOK_UTILITY_ADDRESS.rsplit(" ", 1)[-1])
IBOK_UTILITY_EMAIL = os.environ.get("IBOK_UTILITY_EMAIL", "bok@example.pl")
IBOK_UTILITY_PHONE = os.environ.get("IBOK_UTILITY_PHONE", "+48 22 000 00 00")
# How the utility's invoice numbers look (the registration form shows it as the example to copy).
IBOK_INVOICE_NUMBER_EXAMPLE = os.environ.get("IBOK_INVOICE_NUMBER_EXAMPLE", "FV/2026/11/000123")
# The host of the KSeF verification codes (KOD I and KOD II): qr.ksef.mf.gov.pl in production,
# qr-test.ksef.mf.gov.pl or qr-demo.ksef.mf.gov.pl when the billing system issues to the test or demo KSeF.
IBOK_KSEF_QR_HOST = os.environ.get("IBOK_KSEF_QR_HOST", "qr.ksef.mf.gov.pl")
# The billing sync (docs/billing-sync.md): "files" reads batch folders from the drop directory,
# "http" pulls pages of changes from IBOK_BILLING_URL with a bearer token.
IBOK_BILLING_SOURCE = os.environ.get("IBOK_BILLING_SOURCE", "files")
IBOK_BILLING_DROP_DIR = Path(os.environ.get("IBOK_BILLING_DROP_DIR", VAR_DIR / "billing-drop"))
IBOK_BILLING_URL = os.environ.get("IBOK_BILLING_URL", "http://127.0.0.1:8765")
IBOK_BILLING_TOKEN = os.environ.get("IBOK_BILLING_TOKEN", "")
IBOK_BILLING_PAGE_SIZE = env_int("IBOK_BILLING_PAGE_SIZE", 1000)
IBOK_SYNC_INTERVAL_MINUTES = env_int("IBOK_SYNC_INTERVAL_MINUTES", 60)
IBOK_SYNC_BATCH_SIZE = env_int("IBOK_SYNC_BATCH_SIZE", 5000)
IBOK_SYNC_WORKERS = env_int("IBOK_SYNC_WORKERS", 2)  # database connections a sync loads chunks on at once
IBOK_CUSTOMER_SYNC_THROTTLE_SECONDS = env_int("IBOK_CUSTOMER_SYNC_THROTTLE_SECONDS", 300)
# The outbox: what the portal owes the billing system. "http" POSTs each message to IBOK_OUTBOX_URL with an
# Idempotency-Key header; "files" writes one JSON file per message into IBOK_OUTBOX_DIR.
IBOK_OUTBOX_TRANSPORT = os.environ.get("IBOK_OUTBOX_TRANSPORT", "files")
IBOK_OUTBOX_URL = os.environ.get("IBOK_OUTBOX_URL", "http://127.0.0.1:8765/v1/inbox")
IBOK_OUTBOX_TOKEN = os.environ.get("IBOK_OUTBOX_TOKEN", "")
# The secret shared with the billing system: every message carries an HMAC-SHA256 of its body made with it.
IBOK_OUTBOX_SECRET = os.environ.get("IBOK_OUTBOX_SECRET", "demo-outbox-secret" if DEBUG else "")
IBOK_OUTBOX_DIR = Path(os.environ.get("IBOK_OUTBOX_DIR", VAR_DIR / "outbox"))
IBOK_OUTBOX_MAX_ATTEMPTS = env_int("IBOK_OUTBOX_MAX_ATTEMPTS", 12)
# /metrics answers staff, and a scraper that sends "Authorization: Bearer <this token>" (none without it).
IBOK_METRICS_TOKEN = os.environ.get("IBOK_METRICS_TOKEN", "")
# A sync older than this raises the alarm on the health page.
IBOK_SYNC_MAX_AGE = timedelta(minutes=env_int("IBOK_SYNC_MAX_AGE_MINUTES", 90))
# Self-readings are accepted on these days of the month: ranges "20-31", single days "5", "L10" = the last 10 days.
IBOK_READING_WINDOW_DAYS = os.environ.get("IBOK_READING_WINDOW_DAYS", "L10,1-5")
# A meter's legalization is highlighted this many days before it expires.
IBOK_LEGALIZATION_WARNING_DAYS = env_int("IBOK_LEGALIZATION_WARNING_DAYS", 60)
# Billing (issue 4): online payments through django-getpaid, the invoice PDF, the calendar feed.
# The fee the utility charges for an online payment (the seeds: 1 zł); 0 for none.
IBOK_PAYMENT_FEE = Decimal(os.environ.get("IBOK_PAYMENT_FEE", "1.00"))
# Payment plans (rozłożenie na raty): how many instalments a customer may ask for, the smallest instalment, and how
# many days after the request the first one falls due.
IBOK_PAYMENT_PLAN_MIN_INSTALMENTS = env_int("IBOK_PAYMENT_PLAN_MIN_INSTALMENTS", 2)
IBOK_PAYMENT_PLAN_MAX_INSTALMENTS = env_int("IBOK_PAYMENT_PLAN_MAX_INSTALMENTS", 12)
IBOK_PAYMENT_PLAN_MIN_INSTALMENT = Decimal(os.environ.get("IBOK_PAYMENT_PLAN_MIN_INSTALMENT", "50.00"))
IBOK_PAYMENT_PLAN_FIRST_DUE_DAYS = env_int("IBOK_PAYMENT_PLAN_FIRST_DUE_DAYS", 14)
# Przelewy24 credentials; without them (and with IBOK_PAYMENT_SANDBOX on, the default with DEBUG) payments go
# to the bundled sandbox broker, which speaks the same protocol from inside the portal.
IBOK_PAYMENT_SANDBOX = env_bool("IBOK_PAYMENT_SANDBOX", DEBUG)
# "transaction" when a transaction-mode pooler (PgBouncer) sits in front of PostgreSQL (docs/operations.md).
DATABASE_POOLER = os.environ.get("DATABASE_POOLER", "").strip().lower()
if DATABASE_POOLER not in {"", "transaction", "session"}:
    raise ImproperlyConfigured("DATABASE_POOLER is 'transaction', 'session' or empty.")
# PostgreSQL's JIT compiles any query whose cost estimate is high (a subquery it will never run in full) and so
# adds 30-100 ms to page queries that run in under a millisecond (bench/pages.py); a portal never gains from it.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    # Parameters bound by the server, and a statement run 5 times on a connection prepared there: PostgreSQL then
    # stops re-planning the pages' queries (about 1 ms of its CPU per dashboard, bench/pages.py). Behind a
    # transaction-mode pooler they are off (below).
    if env_bool("DATABASE_PREPARED_STATEMENTS", True) and not DATABASE_POOLER:
        DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
    if DATABASE_POOLER == "transaction":
        # PgBouncer in transaction mode hands each transaction to any server connection: a statement prepared on
        # one is unknown on the next, and a cursor declared outside a transaction is gone. Client-side binding
        # and no automatic preparing (prepare_threshold None), and no server-side cursors for .iterator().
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = None
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
GETPAID_ORDER_MODEL = "billing.OnlinePayment"
GETPAID_BACKEND_SETTINGS = {
    "przelewy24": {
        "merchant_id": env_int("IBOK_P24_MERCHANT_ID", 100001),
        "pos_id": env_int("IBOK_P24_POS_ID", 100001),
        "crc": os.environ.get("IBOK_P24_CRC", "ibok-sandbox-crc" if IBOK_PAYMENT_SANDBOX else ""),
        "api_key": os.environ.get("IBOK_P24_API_KEY", ""),
        # The real broker unless told otherwise; Przelewy24's sandbox address fails `check --deploy` (billing.checks).
        "base_url": os.environ.get("IBOK_P24_URL", "https://secure.przelewy24.pl"),
        "transport": "sandbox" if IBOK_PAYMENT_SANDBOX else "http",
    }
}

# Cases (issue 7): attachments are checked PDF/JPG/PNG files under MEDIA_ROOT, downloaded only through views.
IBOK_CASE_ATTACHMENT_MAX_BYTES = env_int("IBOK_CASE_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
IBOK_CASE_ATTACHMENT_MAX_COUNT = env_int("IBOK_CASE_ATTACHMENT_MAX_COUNT", 5)
# Virus scan of every upload by ClamAV's daemon (docs/operations.md): off unless switched on. With it on, a file
# ClamAV does not clear (a virus, or the daemon not answering) is refused. IBOK_CLAMAV_SOCKET is clamd's local
# socket (Debian's clamav-daemon: /var/run/clamav/clamd.ctl) or tcp://host:3310.
IBOK_CLAMAV_ENABLED = env_bool("IBOK_CLAMAV_ENABLED")
IBOK_CLAMAV_SOCKET = os.environ.get("IBOK_CLAMAV_SOCKET", "/var/run/clamav/clamd.ctl")
IBOK_CLAMAV_TIMEOUT = float(os.environ.get("IBOK_CLAMAV_TIMEOUT", "30"))
# A closed case can be reopened by the customer for this many days.
IBOK_CASE_REOPEN_DAYS = env_int("IBOK_CASE_REOPEN_DAYS", 14)
# The portal's public address, for links in e-mails sent by background tasks.
# Required in production (`check --deploy`); the demo derives it from the PORT it runs on.
IBOK_PORTAL_URL = os.environ.get(
    "IBOK_PORTAL_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}" if DEBUG else ""
)

# Notifications, announcements and documents (issue 9, the notices app). Reminders go out daily at this hour
# (Europe/Warsaw); each kind looks this many days ahead. A new invoice is announced only if issued recently, so
# a first import of years of history sends nothing.
IBOK_NOTIFY_HOUR = env_int("IBOK_NOTIFY_HOUR", 8)
IBOK_NOTIFY_NEW_INVOICE_MAX_AGE_DAYS = env_int("IBOK_NOTIFY_NEW_INVOICE_MAX_AGE_DAYS", 7)
IBOK_NOTIFY_PAYMENT_DUE_DAYS = env_int("IBOK_NOTIFY_PAYMENT_DUE_DAYS", 3)
IBOK_NOTIFY_CONTRACT_END_DAYS = env_int("IBOK_NOTIFY_CONTRACT_END_DAYS", 30)
IBOK_NOTIFY_LEGALIZATION_DAYS = env_int("IBOK_NOTIFY_LEGALIZATION_DAYS", 30)
# A failed e-mail or SMS is tried again after this many seconds, doubled each time, up to the attempts limit;
# then it is marked failed for staff (admin: sent notifications).
IBOK_NOTIFY_RETRY_SECONDS = env_int("IBOK_NOTIFY_RETRY_SECONDS", 60)
IBOK_NOTIFY_MAX_ATTEMPTS = env_int("IBOK_NOTIFY_MAX_ATTEMPTS", 6)
# SMS: SMSAPI.pl with an OAuth token in production; without a token they are only recorded (admin: SMS recorded
# locally), as in development and tests. IBOK_SMS_SENDER is a sender name registered at SMSAPI (optional).
IBOK_SMSAPI_TOKEN = os.environ.get("IBOK_SMSAPI_TOKEN", "")
IBOK_SMS_SENDER = os.environ.get("IBOK_SMS_SENDER", "")
IBOK_SMS_BACKEND = os.environ.get(
    # In production SMSAPI by default, so that the deploy check asks for its token: choosing the local backend
    # (SMS recorded, never sent) outside DEBUG has to be said out loud.
    "IBOK_SMS_BACKEND",
    "notices.sms.SmsApiBackend" if IBOK_SMSAPI_TOKEN or not DEBUG else "notices.sms.LocalBackend",
)
# Phone verification codes: valid this many minutes, this many wrong tries, at most this many a day.
IBOK_PHONE_CODE_TTL_MINUTES = env_int("IBOK_PHONE_CODE_TTL_MINUTES", 10)
IBOK_PHONE_CODE_MAX_ATTEMPTS = env_int("IBOK_PHONE_CODE_MAX_ATTEMPTS", 5)
IBOK_PHONE_CODES_PER_DAY = env_int("IBOK_PHONE_CODES_PER_DAY", 5)
# Documents (Dokumenty): PDFs staff upload, downloaded only through a view that checks access.
IBOK_DOCUMENT_MAX_BYTES = env_int("IBOK_DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
# Invoices and payments of deleted accounts, once tax law no longer needs them (billing.services.tax_records_purge).
CELERY_BEAT_SCHEDULE["billing-tax-records-purge"] = {
    "task": "billing.tasks.tax_records_purge",
    "schedule": crontab(hour=3, minute=30),
}
CELERY_BEAT_SCHEDULE["notices-reminders"] = {
    "task": "notices.tasks.reminders_run",
    "schedule": crontab(hour=IBOK_NOTIFY_HOUR, minute=0),
}
CELERY_BEAT_SCHEDULE["notices-resume"] = {
    "task": "notices.tasks.notifications_resume",
    "schedule": timedelta(minutes=5),
}

# --- Readings without friction (photo and SMS readings) ----------------------------------------------------------
# A photo taken more than this many days before its self-reading (EXIF date), or in the future, is flagged for the
# office. The SMS gateway signs its inbound callback (an SMS "ODCZYT <meter no.> <value>") with an HMAC-SHA256 of
# the body under IBOK_SMS_INBOUND_SECRET; without the secret every callback is refused.
IBOK_READING_PHOTO_MAX_AGE_DAYS = env_int("IBOK_READING_PHOTO_MAX_AGE_DAYS", 3)
IBOK_SMS_INBOUND_SECRET = os.environ.get("IBOK_SMS_INBOUND_SECRET", "")
# Passkeys: allauth's passkey login (MFA_PASSKEY_LOGIN_ENABLED above) needs no password and no CAPTCHA; a key added
# from the dashboard's offer is "passwordless" by default, so it signs in on its own.
MFA_FORMS = {"add_webauthn": "accounts.forms.PasskeyAddForm"}
