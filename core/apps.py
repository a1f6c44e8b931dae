from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    label = "core"
    verbose_name = "iBOK"

    def ready(self) -> None:
        from celery.signals import task_failure, task_postrun, task_prerun

        from core import checks  # noqa: F401 - registers the deploy checks

        task_failure.connect(_task_failed, dispatch_uid="core.metrics.task_failed", weak=False)
        task_prerun.connect(_task_started, dispatch_uid="core.emails.task_started", weak=False)
        task_postrun.connect(_task_finished, dispatch_uid="core.emails.task_finished", weak=False)


def _task_started(task_id=None, **kwargs) -> None:
    from core import emails

    emails.task_started(task_id)


def _task_finished(**kwargs) -> None:
    from core import emails

    emails.task_finished()


def _task_failed(sender=None, **kwargs) -> None:
    """A task that raised (after its retries, if it has any): counted per task for /metrics."""
    from core import metrics

    metrics.count(metrics.TASKS_FAILED, label=getattr(sender, "name", "") or "unknown")
