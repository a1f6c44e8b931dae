"""The first version of the e-invoice terms, so the request page works out of the box; staff publish newer ones."""

from datetime import UTC, datetime

from django.db import migrations

BODY = """§ 1. Postanowienia ogólne
1. Regulamin określa zasady wystawiania, przesyłania i udostępniania faktur w formie elektronicznej (e-faktur) odbiorcom usług przedsiębiorstwa, zgodnie z art. 106n ustawy z dnia 11 marca 2004 r. o podatku od towarów i usług.
2. E-faktura ma taką samą moc prawną jak faktura papierowa.

§ 2. Akceptacja
1. Odbiorca akceptuje przesyłanie e-faktur w Internetowym Biurze Obsługi Klienta (iBOK), przy rejestracji konta albo składając podpisany wniosek papierowy.
2. Akceptacja obejmuje faktury, faktury korygujące, duplikaty faktur i noty odsetkowe.
3. Przedsiębiorstwo zapisuje wersję zaakceptowanego regulaminu, czas akceptacji, osobę i adres IP.

§ 3. Adres e-mail
1. E-faktury są przesyłane jako pliki PDF na adres e-mail wskazany przez odbiorcę i udostępniane w iBOK.
2. Jeżeli wskazany adres jest inny niż adres konta iBOK, przed uruchomieniem usługi na ten adres wysyłany jest link sprawdzający poprawność komunikacji elektronicznej. Usługa zaczyna działać po jego potwierdzeniu.
3. Zmiana adresu wymaga ponownego potwierdzenia; do tego czasu faktury są przesyłane na adres dotychczasowy.

§ 4. Rezygnacja
1. Odbiorca może w każdej chwili zrezygnować z e-faktur, wskazując dzień, od którego faktury mają być wysyłane w formie papierowej, oraz adres do korespondencji.
2. Do wskazanego dnia faktury są przesyłane drogą elektroniczną.

§ 5. Wymagania techniczne
Do odczytu e-faktur potrzebny jest dostęp do Internetu, skrzynka poczty elektronicznej i program do odczytu plików PDF.
"""


def forwards(apps, schema_editor):
    EinvoiceTerms = apps.get_model("einvoice", "EinvoiceTerms")
    EinvoiceTerms.objects.get_or_create(
        version="2026-01",
        defaults={
            "title": "Regulamin e-faktury",
            "body": BODY,
            "published_at": datetime(2026, 1, 1, tzinfo=UTC),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("einvoice", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
