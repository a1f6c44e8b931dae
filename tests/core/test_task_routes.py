"""Queues by kind: the production routes send each task to the queue its kind belongs to, through Celery's own
router, so a monthly billing run never queues ahead of a password-reset mail."""

import pytest
from celery import Celery
from django.conf import settings

from ibok.celery import app as portal_app


@pytest.fixture(scope="module")
def router():
    """Celery's router as production configures it (the test settings switch routes off for the worker tests)."""
    portal_app.loader.import_default_modules()  # every app's tasks module, as a worker imports them
    app = Celery("routes-under-test", set_as_current=False)
    app.conf.task_routes = settings.IBOK_TASK_ROUTES
    app.conf.task_default_queue = "interactive"
    return app.amqp.router


def queue_of(router, task_name: str) -> str:
    return router.route({}, task_name)["queue"].name


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("accounts.tasks.registration_email_send", "interactive"),
        ("accounts.tasks.email_send", "interactive"),  # allauth's mails: password reset, e-mail confirmation
        ("tickets.tasks.case_reply_email_send", "interactive"),
        ("einvoice.tasks.verification_email_send", "interactive"),
        ("billing.tasks.customer_sync", "interactive"),
        ("billing.tasks.invoice_pdf_render", "interactive"),
        ("einvoice.tasks.invoice_email_send", "bulk"),
        ("einvoice.tasks.deliveries_for_invoices", "bulk"),
        ("einvoice.tasks.deliveries_prepare", "bulk"),
        ("notices.tasks.reminders_run", "bulk"),
        ("notices.tasks.notification_send", "bulk"),
        ("notices.tasks.announcement_push", "bulk"),
        ("billing.tasks.billing_sync", "sync"),
        ("billing.tasks.sync_watchdog", "sync"),
        ("core.tasks.outbox_deliver", "sync"),
    ],
)
def test_each_kind_of_task_goes_to_its_queue(router, task_name, queue):
    assert task_name in portal_app.tasks, f"{task_name} is not a registered task any more: update the routes"
    assert queue_of(router, task_name) == queue


def test_every_registered_task_lands_on_a_queue_a_worker_listens_to(router):
    ours = [name for name in portal_app.tasks if not name.startswith("celery.")]
    assert len(ours) > 15
    queues = {name: queue_of(router, name) for name in ours}
    assert {name: queue for name, queue in queues.items() if queue not in settings.IBOK_TASK_QUEUES} == {}


def test_beat_schedules_only_registered_tasks(router):
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in portal_app.tasks
