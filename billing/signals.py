from django.dispatch import Signal

# Sent inside the transaction that brings new invoices (receivers queue their work with it through
# core.jobs.enqueue, so a rolled-back chunk leaves nothing behind); kwargs: invoice_ids (list[int]).
# The one hook for what follows a new invoice: e-invoice e-mails, "new invoice" notifications.
invoices_imported = Signal()
