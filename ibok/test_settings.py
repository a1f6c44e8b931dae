"""Settings for the test suite: real PostgreSQL and real Redis on their standard local ports."""

import os
from pathlib import Path

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ibok")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("IBOK_DEMO", "1")  # the simulated billing system is part of the tests
os.environ.setdefault("IBOK_OUTBOX_SECRET", "test-outbox-secret")
os.environ.setdefault("IBOK_PORTAL_URL", "http://localhost:8000")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")

from ibok.settings import *  # noqa: E402,F403
from ibok.settings import BASE_DIR  # noqa: E402

# Tasks run eagerly, except in a real worker that a test starts (it sets IBOK_CELERY_EAGER=0).
CELERY_TASK_ALWAYS_EAGER = os.environ.get("IBOK_CELERY_EAGER", "1") == "1"
# A real worker started by a test sends what it queues itself to the test's own queue (tests/worker.py).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("IBOK_CELERY_QUEUE", "celery")
# ... so the production routes (IBOK_TASK_ROUTES, held by tests/core/test_task_routes.py) are off in tests.
CELERY_TASK_ROUTES: dict = {}
IBOK_OUTBOX_DIR = BASE_DIR / "var" / "test-outbox"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; production keeps the default
# A worker process cannot share locmem's outbox: the worker tests pass the file backend (and EMAIL_FILE_PATH).
IBOK_EMAIL_BACKEND = os.environ.get("IBOK_TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Plain http://localhost for the browser tests: Chromium keeps a __Host- cookie only with the Secure flag.
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"
# A worker test hands its worker the media folder it reads too.
MEDIA_ROOT = Path(os.environ.get("IBOK_TEST_MEDIA_ROOT", BASE_DIR / "var" / "test-media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SILENCED_SYSTEM_CHECKS = ["django_recaptcha.recaptcha_test_key_error"]
IBOK_RECAPTCHA_ENABLED = False  # no network in tests; tests/accounts enable it with a mocked Google answer
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True  # the live server is plain http://localhost
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns about a missing folder
# SMS are recorded in the database, where tests read them; a worker test may hand its worker another gateway.
IBOK_SMS_BACKEND = os.environ.get("IBOK_SMS_BACKEND", "notices.sms.LocalBackend")
