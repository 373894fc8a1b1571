"""The CI classes of SPEC §7 with their attribute schemas (``cmdb.classes``). Admins add more.

Existing classes are left alone (an admin may have tuned their schema); missing ones are added.
"""

from django.db import migrations

from cmdb.classes import ensure_default_classes


def seed(apps, schema_editor):
    ensure_default_classes(apps.get_model("cmdb", "CIClass"))


class Migration(migrations.Migration):
    dependencies = [("cmdb", "0002_audit_trigger")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
