from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from itsm.db import append_only, number_sequence
from itsm.search import gin_indexes


def known_error_and_cluster_indexes() -> migrations.RunPython:
    """GIN indexes for the knowledge search and for finding an incident's title cluster by
    trigram similarity (PostgreSQL only)."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                "CREATE INDEX IF NOT EXISTS problems_problem_search_known_error_gin "
                "ON problems_problem USING gin (search_known_error)"
            )
            schema_editor.execute(
                "CREATE INDEX IF NOT EXISTS problems_titlecluster_key_trgm "
                "ON problems_titlecluster USING gin (key gin_trgm_ops)"
            )

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute("DROP INDEX IF EXISTS problems_problem_search_known_error_gin")
            schema_editor.execute("DROP INDEX IF EXISTS problems_titlecluster_key_trgm")

    return migrations.RunPython(create, drop, elidable=False)


class Migration(migrations.Migration):
    dependencies = [("problems", "0001_initial")]
    operations = [
        # pg_trgm: trigram similarity (title clusters, ranking suggestions); nothing elsewhere.
        TrigramExtension(),
        number_sequence("PRB"),
        append_only("problems_problemevent"),
        gin_indexes("problems_problem"),
        known_error_and_cluster_indexes(),
    ]
