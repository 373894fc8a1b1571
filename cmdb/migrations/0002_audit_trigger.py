from django.db import migrations

from itsm.db import append_only


class Migration(migrations.Migration):
    dependencies = [("cmdb", "0001_initial")]
    operations = [append_only("cmdb_cievent")]
