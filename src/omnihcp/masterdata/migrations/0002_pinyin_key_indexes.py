"""PostgreSQL indexes on the search keys (name, pinyin, initials) in the "C" collation, with the id as tie-breaker.

One such index answers both a prefix range (``key_prefix``) and ``ORDER BY key, id LIMIT n``,
so a search or a list page reads only the rows it shows. The database's own collation (often
en_US.UTF-8) cannot do either from the ``varchar_pattern_ops`` indexes. SQLite compares
byte-wise already and uses the model's plain indexes; there this migration does nothing.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

INDEXES = [
    ("hcp_name_c_idx", "masterdata_hcp", "name"),
    ("hcp_pinyin_c_idx", "masterdata_hcp", "name_pinyin"),
    ("hcp_initials_c_idx", "masterdata_hcp", "name_initials"),
    ("hco_pinyin_c_idx", "masterdata_hco", "name_pinyin"),
    ("hco_initials_c_idx", "masterdata_hco", "name_initials"),
]


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON {table} (({column} COLLATE "C"), id)'
        )


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("masterdata", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
