"""What e-invoices do when lower apps say something happened (they never call up)."""

from django.utils import timezone

from core.jobs import enqueue
from einvoice import services


def invoices_imported(sender, *, invoice_ids: list[int], **kwargs) -> None:
    """A sync chunk wrote new invoices: deliver those of e-invoice customers (in a task, off the sync's path)."""
    enqueue("einvoice.deliveries_for_invoices", invoice_ids=list(invoice_ids))


def einvoice_requested_at_registration(sender, *, user, customer_id: int, email: str, registration_id: int, **kwargs):
    """The box ticked at registration becomes the consent now; the sweep repeats this if the process died first."""
    services.consent_from_registration(registration_id=registration_id, now=timezone.now())
