"""The calendar feed (RFC 5545) of due dates: one all-day event per document, updated as invoices are paid."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from billing.models import Invoice
from core.templatetags.ibok import format_money


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> list[str]:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    out, current = [], ""
    for char in line:
        if len((current + char).encode("utf-8")) > 75:
            out.append(current)
            current = " " + char
        else:
            current += char
    out.append(current)
    return out


def due_dates_calendar(*, invoices: Iterable[Invoice], now: datetime, host: str, plans: Iterable = ()) -> str:
    name = _("Payment due dates")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//iBOK//Billing due dates//PL",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(name)}",
        "X-PUBLISHED-TTL:PT1H",
    ]
    stamp = f"{now:%Y%m%dT%H%M%SZ}"
    for invoice in invoices:
        if invoice.outstanding > 0:
            summary = _("Payment due: %(number)s, %(amount)s") % {
                "number": invoice.number,
                "amount": format_money(invoice.outstanding),
            }
        else:
            summary = _("Paid: %(number)s") % {"number": invoice.number}
        description = _("Customer number %(number)s. Amount of the document: %(amount)s.") % {
            "number": invoice.customer.number,
            "amount": format_money(invoice.gross),
        }
        lines += [
            "BEGIN:VEVENT",
            f"UID:invoice-{invoice.pk}@{host.split(':')[0]}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{invoice.due_date:%Y%m%d}",
            f"DTEND;VALUE=DATE:{invoice.due_date + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_escape(summary)}",
            f"DESCRIPTION:{_escape(description)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    for plan in plans:  # billing.models.PaymentPlan in force: one event per instalment
        items = plan.instalments
        description = _("Payment plan of customer number %(number)s.") % {"number": plan.customer.number}
        for item in items:
            summary = _("Instalment %(number)d of %(count)d: %(amount)s") % {
                "number": item["number"],
                "count": len(items),
                "amount": format_money(item["amount"]),
            }
            lines += [
                "BEGIN:VEVENT",
                f"UID:plan-{plan.pk}-{item['number']}@{host.split(':')[0]}",
                f"DTSTAMP:{stamp}",
                f"DTSTART;VALUE=DATE:{item['due_date']:%Y%m%d}",
                f"DTEND;VALUE=DATE:{item['due_date'] + timedelta(days=1):%Y%m%d}",
                f"SUMMARY:{_escape(summary)}",
                f"DESCRIPTION:{_escape(description)}",
                "TRANSP:TRANSPARENT",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return "".join(folded + "\r\n" for line in lines for folded in _fold(line))
