from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = _("Notifications, announcements and documents")

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from accounts import signals as account_signals
        from billing import signals as billing_signals
        from notices import checks, receivers  # noqa: F401 - checks register themselves
        from notices.models import Announcement, AnnouncementTarget

        # A committed import chunk brought invoices: tell the customers who asked (e-powiadomienie Faktura).
        billing_signals.invoices_imported.connect(
            receivers.new_invoices_notify, dispatch_uid="notices.new_invoices_notify"
        )
        for signal in (post_save, post_delete):
            for model in (Announcement, AnnouncementTarget):
                signal.connect(receivers.announcements_changed, sender=model, dispatch_uid=f"notices.{model.__name__}")
        m2m_changed.connect(
            receivers.announcements_changed, sender=Announcement.points.through, dispatch_uid="notices.points"
        )
        # An account deletion carried out: the notifications sent to it and its phone verifications go too.
        account_signals.account_erasing.connect(receivers.account_erasing, dispatch_uid="notices.account_erasing")
