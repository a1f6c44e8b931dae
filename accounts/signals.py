"""Signals other apps connect to; accounts never imports them."""

from django.dispatch import Signal

# Sent inside the transaction that activates an account (or adds a customer number to it), so that receivers
# queue their work (core.jobs.enqueue) with it. kwargs: user (User), customer_ids (list[int]). The billing sync
# connects here to refresh those customers at once.
account_activated = Signal()

# Sent after activation when the user ticked "I agree to receive e-invoices" at registration.
# kwargs: user (User), customer_id (int), email (str), registration_id (int). The wish is also stored on
# Registration.einvoice_requested and as a Consent(kind=EINVOICE), so the einvoice app can sweep for it too.
einvoice_requested_at_registration = Signal()

# Asked before an account deletion is carried out at once: does the user owe anything? Receivers return a list of
# reasons (empty for none). kwargs: user (User), customer_ids (list[int], the customers the user owns).
# Billing answers with the customers whose balance is a debt (or unknown). Any reason: the office decides.
account_deletion_blockers = Signal()

# Sent inside the transaction that erases an account, before the user's rows are anonymised.
# kwargs: user (User), customer_ids (list[int]), now (datetime). Billing marks the invoices and payments that tax
# law keeps with their purge date and drops the calendar feed; other apps erase what they hold about the user.
account_erasing = Signal()
