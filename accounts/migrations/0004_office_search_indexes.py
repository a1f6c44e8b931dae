"""The office's customer search (accounts.search): pg_trgm trigram indexes on the upper-cased name, street and
e-mail (Django's icontains compares UPPER(column::text)), an index on the upper-cased number (iexact), the NIP, and
the city (the list's filter reads its values from the index)."""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from core.postgres import AddIndexOnPostgres


def trigram_index(column: str, name: str) -> django.contrib.postgres.indexes.GinIndex:
    return django.contrib.postgres.indexes.GinIndex(
        django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Upper(column), name="gin_trgm_ops"),
        name=name,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_property_managers"),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(django.db.models.functions.text.Upper("number"), name="accounts_cust_number_upper_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["nip"], name="accounts_customer_nip_idx"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["city"], name="accounts_customer_city_idx"),
        ),
        AddIndexOnPostgres(model_name="customer", index=trigram_index("name", "accounts_cust_name_trgm_idx")),
        AddIndexOnPostgres(model_name="customer", index=trigram_index("street", "accounts_cust_street_trgm_idx")),
        AddIndexOnPostgres(model_name="customer", index=trigram_index("email", "accounts_cust_email_trgm_idx")),
    ]
