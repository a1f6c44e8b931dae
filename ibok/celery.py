import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ibok.settings")

app = Celery("ibok")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
