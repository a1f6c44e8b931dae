"""core.jobs: background work written as rows in the caller's transaction, handed to Celery after the commit or
by the relay, once, whether or not the broker answered at the time."""

import time
from datetime import timedelta

import psycopg
import pytest
import redis
from django.db import connection, transaction
from django.utils import timezone

from core import jobs
from core.models import Heartbeat, QueuedTask
from tests.redis_server import RedisServer, celery_broker


@pytest.fixture(autouse=True)
def broker_not_known_down(monkeypatch):
    """Each test starts as a fresh process would: no memory of a broker that was down a moment ago."""
    monkeypatch.setattr(jobs, "_broker_down_until", 0.0)


@pytest.mark.django_db
def test_a_task_queued_in_a_transaction_that_rolls_back_is_neither_kept_nor_run(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        jobs.enqueue("core.heartbeat")
        raise RuntimeError("the change failed")

    assert not QueuedTask.objects.exists()
    assert not Heartbeat.objects.exists()


@pytest.mark.django_db
def test_a_task_queued_with_a_commit_runs_and_its_row_is_stamped(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queued = jobs.enqueue("core.heartbeat")
        assert not Heartbeat.objects.exists()  # nothing runs before the commit

    queued.refresh_from_db()
    assert queued.relayed_at is not None
    assert Heartbeat.objects.get().name == "celery"


@pytest.mark.django_db
def test_an_unknown_task_is_refused_before_anything_is_written():
    for name in ["accounts.no_such_task", "nowhere.heartbeat", "heartbeat", "core.services"]:
        with pytest.raises(jobs.UnknownTask):
            jobs.enqueue(name)

    assert not QueuedTask.objects.exists()


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_row_waits_and_is_handed_over_once_when_it_is_back(own_redis):
    with celery_broker(own_redis.url):
        own_redis.stop()
        started = time.monotonic()
        with transaction.atomic():
            queued = jobs.enqueue("core.heartbeat")
        committed_in = time.monotonic() - started
        queued.refresh_from_db()
        waiting_relay = jobs.relay(now=timezone.now())  # the relay too: the broker is still down

        own_redis.start()
        first = jobs.relay_all(now=timezone.now())
        second = jobs.relay_all(now=timezone.now())

    queued_messages = redis.Redis.from_url(own_redis.url).llen("celery")
    assert committed_in < 2  # the kick asked the broker, which did not answer, and left the row to the relay
    assert queued.relayed_at is None
    assert waiting_relay == 0
    assert QueuedTask.objects.get(pk=queued.pk).attempts == 1
    assert "Connection refused" in QueuedTask.objects.get(pk=queued.pk).last_error
    assert first["relayed"] == 1
    assert second["relayed"] == 0
    assert queued_messages == 1  # in the broker's queue once, for a worker to take
    assert QueuedTask.objects.get(pk=queued.pk).relayed_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_row_another_relay_holds_is_skipped_not_handed_over_twice():
    now = timezone.now()
    rows = [QueuedTask.objects.create(created_at=now, task="core.heartbeat") for _ in range(3)]
    database = connection.settings_dict
    with psycopg.connect(
        host=database["HOST"], port=database["PORT"], user=database["USER"], dbname=database["NAME"]
    ) as other:
        other.execute("SELECT id FROM core_queuedtask WHERE id = %s FOR UPDATE", [rows[0].pk])

        while_held = jobs.relay(now=now)
    after = jobs.relay(now=now)

    assert while_held == 2
    assert after == 1
    assert QueuedTask.objects.filter(relayed_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_relayed_rows_are_forgotten_after_a_week():
    now = timezone.now()
    QueuedTask.objects.create(created_at=now, task="core.heartbeat", relayed_at=now - timedelta(days=8))
    kept = QueuedTask.objects.create(created_at=now, task="core.heartbeat", relayed_at=now - timedelta(days=6))

    counts = jobs.relay_all(now=now)

    assert counts == {"relayed": 0, "deleted": 1}
    assert list(QueuedTask.objects.values_list("pk", flat=True)) == [kept.pk]


@pytest.mark.django_db
def test_a_row_naming_a_task_that_no_longer_exists_waits_for_staff_and_does_not_block_the_others():
    now = timezone.now()
    gone = QueuedTask.objects.create(created_at=now, task="core.removed_task")
    after = QueuedTask.objects.create(created_at=now, task="core.heartbeat")

    handed = jobs.relay(now=now)

    gone.refresh_from_db()
    assert handed == 1
    assert (gone.relayed_at, gone.attempts, gone.last_error) == (None, 1, "unknown task")
    assert QueuedTask.objects.get(pk=after.pk).relayed_at == now
    assert Heartbeat.objects.exists()
