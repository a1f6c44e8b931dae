"""Migration operations for what only PostgreSQL has (the portal's database; SQLite serves local trials only)."""

from django.db.migrations.operations import AddIndex


class AddIndexOnPostgres(AddIndex):
    """AddIndex for a PostgreSQL-only index (GIN, pg_trgm operator classes). On SQLite the model state still gains
    the index and the database does not: the search works there, by reading every row."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
