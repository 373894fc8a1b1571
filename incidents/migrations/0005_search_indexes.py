from django.db import migrations

from itsm.search import gin_indexes


class Migration(migrations.Migration):
    dependencies = [("incidents", "0004_csat_and_search")]
    operations = [gin_indexes("incidents_incident")]
