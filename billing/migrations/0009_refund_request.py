"""Overpayment refund requests, and the staff groups' rights on them (billing staff decide, administrators too)."""

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

GROUP_PERMISSIONS = {
    "billing": ["view_refundrequest", "change_refundrequest"],
    "administrator": ["view_refundrequest", "change_refundrequest", "delete_refundrequest"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("billing")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="billing", codename__in=codenames))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="billing", codename__endswith="_refundrequest").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_passkey_prompt'),
        ('billing', '0008_merge_20261203_2148'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name='RefundRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reference', models.CharField(max_length=32, unique=True, verbose_name='reference')),
                ('method', models.CharField(choices=[('BANK_TRANSFER', 'Transfer to my bank account'), ('OFFSET', 'Offset against the next invoices')], max_length=16, verbose_name='method')),
                ('bank_account', models.CharField(blank=True, max_length=26, verbose_name='bank account (NRB)')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='overpayment when requested')),
                ('status', models.CharField(choices=[('REQUESTED', 'Requested'), ('PAID_OUT', 'Paid out'), ('OFFSET', 'Offset against invoices'), ('REFUSED', 'Refused')], default='REQUESTED', max_length=16, verbose_name='status')),
                ('requested_at', models.DateTimeField(verbose_name='requested at')),
                ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided at')),
                ('decision_note', models.TextField(blank=True, verbose_name='note to the customer')),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='refund_requests', to='accounts.customer', verbose_name='customer')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='refund_requests', to=settings.AUTH_USER_MODEL, verbose_name='requested by')),
            ],
            options={
                'verbose_name': 'refund request',
                'verbose_name_plural': 'refund requests',
                'indexes': [models.Index(fields=['status', 'requested_at', 'id'], name='billing_refund_queue_idx'), models.Index(fields=['customer', '-requested_at', '-id'], name='billing_refund_customer_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='billing_refundrequest_amount_positive'), models.CheckConstraint(condition=models.Q(('status__in', ['REQUESTED', 'PAID_OUT', 'OFFSET', 'REFUSED'])), name='billing_refundrequest_status_valid'), models.CheckConstraint(condition=models.Q(models.Q(('method', 'BANK_TRANSFER'), ('bank_account__regex', '^[0-9]{26}$')), models.Q(('method', 'OFFSET'), ('bank_account', '')), _connector='OR'), name='billing_refundrequest_method_account'), models.CheckConstraint(condition=models.Q(models.Q(('decided_at__isnull', True), ('status', 'REQUESTED')), models.Q(models.Q(('status', 'REQUESTED'), _negated=True), ('decided_at__isnull', False)), _connector='OR'), name='billing_refundrequest_decided_at'), models.UniqueConstraint(condition=models.Q(('status', 'REQUESTED')), fields=('customer',), name='billing_refundrequest_one_open')],
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
