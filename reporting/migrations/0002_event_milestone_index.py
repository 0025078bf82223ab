"""A partial index for the dashboard's lead times (reporting/selectors.py).

The lead-time query reads the status-change events that reach `shipped` or
`paid` in a recent window. orders' own timeline index starts with the order,
so without this one PostgreSQL would read every event ever written. The
index belongs to reporting (it serves only this report), hence raw SQL here
instead of a field on orders' model; CONCURRENTLY so a live table is not
locked while it builds.
"""

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("reporting", "0001_access_permissions"),
        ("orders", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            sql="""
                CREATE INDEX CONCURRENTLY IF NOT EXISTS reporting_event_milestone_idx
                ON orders_orderevent (to_status, created_at) INCLUDE (order_id)
                WHERE kind = 'status_changed' AND to_status IN ('shipped', 'paid')
            """,
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS reporting_event_milestone_idx",
        ),
    ]
