"""Fixtures of the security tests: the accounts tests' terms, customer with invoices and registration form."""

from tests.accounts.conftest import invoiced_customer, registration_form, terms  # noqa: F401
