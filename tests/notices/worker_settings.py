"""Settings of a real worker in tests/notices/test_worker.py: e-mail into files the test reads (EMAIL_FILE_PATH)."""

from ibok.test_settings import *  # noqa: F403

IBOK_EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"  # behind the counting EMAIL_BACKEND
