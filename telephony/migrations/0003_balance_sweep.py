from django.db import migrations, models

# PostgreSQL: room in each page of the account mirror, so the balance sweep's updates of a
# row's figures stay on its page without touching any index (HOT updates).
FILLFACTOR = 80


def fillfactor_set(apps, schema_editor, value=FILLFACTOR):
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(apps.get_model("telephony", "VosAccount")._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(value)})")


def fillfactor_reset(apps, schema_editor):
    fillfactor_set(apps, schema_editor, value=100)


class Migration(migrations.Migration):
    dependencies = [
        ("telephony", "0002_cdr_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="vosaccount",
            name="wire_digest",
            field=models.CharField(blank=True, default="", editable=False, max_length=32),
        ),
        migrations.AddField(
            model_name="vosserver",
            name="balances_confirmed_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="balances confirmed at"
            ),
        ),
        migrations.RunPython(fillfactor_set, fillfactor_reset, elidable=False),
    ]
