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
