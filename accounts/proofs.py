"""Proof that a person holds a customer's papers: the last invoice's number, or the last settlement's amount.

accounts cannot read invoices (billing sits above it), so billing registers a checker here in its
AppConfig.ready(). A checker is called with customer=None for an unknown number and must do the same work
then, so that the answer takes as long for a stranger's guess as for a real customer.
"""

from collections.abc import Callable
from decimal import Decimal

from accounts.models import Customer

ProofChecker = Callable[..., bool]

_checkers: list[ProofChecker] = []


def register_proof_checker(checker: ProofChecker) -> None:
    """Add a checker: checker(customer=..., invoice_number=..., amount=...) -> bool. Registering twice is a no-op."""
    if checker not in _checkers:
        _checkers.append(checker)


def unregister_proof_checker(checker: ProofChecker) -> None:
    if checker in _checkers:
        _checkers.remove(checker)


def proof_matches(
    *, customer: Customer | None, invoice_number: str | None = None, amount: Decimal | None = None
) -> bool:
    """True when any registered checker confirms the proof; with no checker nothing can be proven."""
    results = [checker(customer=customer, invoice_number=invoice_number, amount=amount) for checker in _checkers]
    return customer is not None and any(results)
