from django.db import migrations

from itsm.db import append_only, number_sequence


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [
        number_sequence("INC"),
        append_only("incidents_incidentevent"),
    ]
