"""The office's search for customers, shared by every admin list that finds rows through their customer.

Exact identifiers (customer number, NIP, billing-system id) are matched exactly; each word of three letters or more
is looked for inside the name, the street and the e-mail. Every condition has an index behind it (accounts
migration 0020: trigram GIN indexes on the upper-cased name, street and e-mail, a B-tree on the upper-cased number),
so a search reads the matching customers only. Lists of other rows (invoices, payments, readings, cases) take the
ids of the customers found here and filter by those: they never join all their rows to customers to search.
"""

import re

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer

# Trigram indexes need three characters to narrow anything down; shorter words would read every customer.
MIN_WORD = 3
# A term found in more customers than this is too vague to list their rows: the first ones are shown, with a note.
MAX_CUSTOMERS = 2000


def search_words(term: str) -> list[str]:
    """The words of a search as the admin splits them ("quoted phrases" stay whole), short ones left out."""
    words = []
    for bit in smart_split(term):
        if bit[0] in "\"'" and bit[0] == bit[-1]:
            bit = unescape_string_literal(bit)
        if len(bit) >= MIN_WORD:
            words.append(bit)
    return words


def customer_condition(term: str) -> Q:
    """Customers whose number, NIP or billing id is the term, or whose name, street or e-mail hold every word."""
    term = term.strip()
    condition = Q(number__iexact=term) | Q(external_id=term)
    digits = re.sub(r"[\s-]", "", term)
    if digits.isdigit() and len(digits) == 10:
        condition |= Q(nip=digits)
    words = search_words(term)
    if words:
        text = Q()
        for word in words:
            text &= Q(name__icontains=word) | Q(street__icontains=word) | Q(email__icontains=word)
        condition |= text
    return condition


def customers_matching(term: str) -> QuerySet[Customer]:
    if not term.strip():
        return Customer.objects.none()
    return Customer.objects.filter(customer_condition(term))


def customer_ids_matching(term: str, *, limit: int | None = None) -> tuple[list[int], bool]:
    """The ids of the customers the term finds (at most `limit`, MAX_CUSTOMERS by default), and whether more were."""
    limit = MAX_CUSTOMERS if limit is None else limit
    ids = list(customers_matching(term).order_by("id").values_list("id", flat=True)[: limit + 1])
    return ids[:limit], len(ids) > limit


class CustomerSearchMixin:
    """Admin search for rows that belong to a customer: the row's own exact identifiers, or its customer's.

    `search_exact_fields` are matched exactly (as typed and upper-cased, so a unique index answers),
    `search_integer_fields` when the term is a number; `search_text_fields` (small tables only) are searched inside.
    The customers are found first (one query), then the rows by those ids: `customer_rows` says how (a foreign key
    by default; a row further away overrides it with ids of its own, so no query joins every row to search).
    `search_extra` adds conditions of the subclass's own.
    """

    search_exact_fields: tuple[str, ...] = ()
    search_integer_fields: tuple[str, ...] = ()
    search_text_fields: tuple[str, ...] = ()
    search_customer_path = "customer"
    search_help_text = _(
        "A document number, a customer number or NIP exactly; or words (three letters or more) from the customer's "
        "name, street or e-mail."
    )

    def customer_rows(self, customer_ids: list[int]) -> Q:
        return Q(**{f"{self.search_customer_path}__in": customer_ids})

    def search_extra(self, term: str) -> Q:
        return Q()

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = self.search_extra(term)
        for field in self.search_exact_fields:
            condition |= Q(**{f"{field}__in": sorted({term, term.upper()})})
        if term.isdigit():
            for field in self.search_integer_fields:
                condition |= Q(**{field: int(term)})
        words = search_words(term)
        for field in self.search_text_fields if words else ():
            text = Q()
            for word in words:
                text &= Q(**{f"{field}__icontains": word})
            condition |= text
        customer_ids, more = customer_ids_matching(term)
        if more:
            messages.warning(
                request,
                _("More than %(count)d customers match; the rows of the first %(count)d are shown. Narrow the search.")
                % {"count": MAX_CUSTOMERS},
            )
        if customer_ids:
            condition |= self.customer_rows(customer_ids)
        if not condition:
            return queryset.none(), False
        return queryset.filter(condition), False


class CustomerListSearchMixin:
    """The customer list's own search: the same definition, without a join."""

    search_help_text = _(
        "A customer number, NIP or billing-system id exactly; or words (three letters or more) from the name, "
        "street or e-mail."
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Customer], search_term: str
    ) -> tuple[QuerySet[Customer], bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(customer_condition(search_term)), False
