"""The demo's terms of the iBOK (regulamin) in Polish, with English and Ukrainian translations.

Written for a municipal water and heat utility from what such utilities publish (what the service is, who may
use it, registration, security, complaints, personal data, e-invoices, changes). The office edits and versions
them in the admin; the demo loads two versions so the Documents tab has a history.
"""

from pathlib import Path

from django.conf import settings

TITLE = {
    "pl": "Regulamin Internetowego Biura Obsługi Klienta (iBOK)",
    "en": "Terms of the Internet Customer Service Office (iBOK)",
    "uk": "Регламент Інтернет-бюро обслуговування клієнтів (iBOK)",
}


# The version before KSeF (2024): § 7 without the QR codes of the national e-invoice system.
KSEF_POINT = {
    "pl": "3. Faktury są wystawiane w Krajowym Systemie e-Faktur (KSeF).",
    "en": "3. Invoices are issued in the National e-Invoice System (KSeF).",
    "uk": "3. Рахунки виставляються в Національній системі е-рахунків (KSeF).",
}
TEXTS = Path(__file__).resolve().parent / "regulamin"  # pl.txt, en.txt, uk.txt


def _before_ksef(text: str, language: str) -> str:
    lines, dropped = [], False
    for line in text.splitlines():
        if line.startswith(KSEF_POINT[language]):
            dropped = True
            continue
        if dropped:  # the point after it moves up
            line, dropped = "3. " + line.removeprefix("4. "), False
        lines.append(line)
    return "\n".join(lines)


def terms_text(language: str, *, version: str) -> tuple[str, str]:
    """(title, text) of a demo terms version in `language`, filled with the utility's details from the settings."""
    details = {
        "name": settings.IBOK_UTILITY_NAME,
        "address": settings.IBOK_UTILITY_ADDRESS,
        "nip": settings.IBOK_UTILITY_NIP,
        "email": settings.IBOK_UTILITY_EMAIL,
    }
    text = (TEXTS / f"{language}.txt").read_text(encoding="utf-8").strip().format(**details)
    if version == "2024-06":
        text = _before_ksef(text, language)
    return TITLE[language], text
