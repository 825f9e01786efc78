# PostgreSQL: the call-record table becomes a table partitioned by month of `start`
# (docs/PERFORMANCE.md, "Partitions"). An existing installation's rows are moved into it;
# SQLite keeps its one table (a no-op there).
#
# On the partitioned table every unique index holds the partition key, so the primary key is
# (id, start) and the natural key (server_id, natural_key, start): a call's start never
# changes on the switch, so this keeps one row per call. The id comes from a sequence owned
# by the column (PostgreSQL 15 has no identity columns on partitioned tables).

from django.db import migrations

TABLE = "telephony_cdr"
OLD = "telephony_cdr_unpartitioned"


def _months(cursor):
    from telephony.services.cdr_partitions import MONTHS_AHEAD, month_after, month_first

    cursor.execute(f"SELECT MIN(start), now() FROM {OLD}")
    oldest, now = cursor.fetchone()
    month = month_first(oldest or now)
    last = month_first(now)
    for _ in range(MONTHS_AHEAD):
        last = month_after(last)
    while month <= last:
        yield month, month_after(month)
        month = month_after(month)


def _old_table_aside(cursor, index_names):
    cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    for name in index_names:
        cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u')",
        [OLD],
    )
    for (name,) in cursor.fetchall():
        cursor.execute(f'ALTER TABLE {OLD} DROP CONSTRAINT "{name}"')
    cursor.execute(f"ALTER TABLE {OLD} ALTER COLUMN id DROP IDENTITY IF EXISTS")


def _partitioned_table(cursor):
    from telephony.services.cdr_partitions import DEFAULT_PARTITION, partition_name

    cursor.execute(
        f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        "INCLUDING STORAGE) PARTITION BY RANGE (start)"
    )
    cursor.execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (id, start)")
    cursor.execute(
        f"ALTER TABLE {TABLE} ADD CONSTRAINT cdr_natural_key UNIQUE (server_id, natural_key, start)"
    )
    cursor.execute(
        f"ALTER TABLE {TABLE} ADD CONSTRAINT telephony_cdr_server_fk FOREIGN KEY (server_id) "
        "REFERENCES telephony_vosserver (id) DEFERRABLE INITIALLY DEFERRED"
    )
    cursor.execute(f"CREATE SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
    cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")
    cursor.execute(f"SELECT setval('{TABLE}_id_seq', COALESCE(MAX(id), 0) + 1, false) FROM {OLD}")
    for lo, hi in list(_months(cursor)):
        cursor.execute(
            f"CREATE TABLE {partition_name(lo)} PARTITION OF {TABLE} "
            f"FOR VALUES FROM ('{lo.isoformat()} 00:00:00+00') TO ('{hi.isoformat()} 00:00:00+00')"
        )
    cursor.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {TABLE} DEFAULT")


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("telephony", "Cdr")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        if cursor.fetchone()[0] == "p":
            return  # already partitioned (migrated back and forth)
        _old_table_aside(cursor, [index.name for index in model._meta.indexes])
        _partitioned_table(cursor)
        # Indexes on the parent are created on every partition, present and future.
        for index in model._meta.indexes:
            schema_editor.add_index(model, index)
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")
        cursor.execute(f"DROP TABLE {OLD}")
        cursor.execute(f"ANALYZE {TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("telephony", "0004_cdr_rollups"),
    ]

    operations = [
        migrations.RunPython(partition, migrations.RunPython.noop, elidable=False),
    ]
