from django.dispatch import Signal

# Sent after the transaction that brought new invoices commits; kwargs: invoice_ids (list[int]).
# The one hook for what follows a new invoice: e-invoice e-mails, "new invoice" notifications.
invoices_imported = Signal()
