# The audit log moved from billing to accounts; its table (billing_auditlog) stays as it is.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_invitation_last_sent"),
        ("billing", "0002_ledgerentry_checked_at_ledgerentry_vos_record_key_and_more"),
        ("telephony", "0003_balance_sweep"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditLog",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("ip", models.GenericIPAddressField(blank=True, null=True)),
                        ("action", models.CharField(max_length=64)),
                        ("account", models.CharField(blank=True, max_length=64)),
                        ("outcome", models.CharField(max_length=32)),
                        ("detail", models.JSONField(blank=True, default=dict)),
                        ("server", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to="telephony.vosserver")),
                        ("user", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "billing_auditlog",
                        "ordering": ["-at"],
                        "indexes": [models.Index(fields=["server", "account", "at"], name="audit_account")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
