from django.db import migrations

from itsm.db import append_only, number_sequence


class Migration(migrations.Migration):
    dependencies = [("changes", "0001_initial")]
    operations = [
        number_sequence("CHG"),
        append_only("changes_changeevent"),
    ]
