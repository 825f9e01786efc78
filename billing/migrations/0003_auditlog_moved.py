# The audit log moved to accounts (accounts.0003_auditlog); the table stays.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0002_ledgerentry_checked_at_ledgerentry_vos_record_key_and_more"),
        ("accounts", "0003_auditlog"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditLog")],
            database_operations=[],
        ),
    ]
