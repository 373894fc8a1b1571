from django.db import migrations

from itsm.db import append_only, number_sequence
from itsm.search import gin_indexes


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [
        number_sequence("REQ"),
        number_sequence("TASK"),
        append_only("catalog_requestevent"),
        append_only("catalog_taskevent"),
        gin_indexes("catalog_request"),
        gin_indexes("catalog_task"),
    ]
