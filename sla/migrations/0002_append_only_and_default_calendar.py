from django.db import migrations

from itsm.db import append_only

ALWAYS = [{"weekday": day, "start": "00:00", "end": "24:00"} for day in range(7)]


def default_calendar(apps, schema_editor):
    Calendar = apps.get_model("sla", "Calendar")
    if not Calendar.objects.filter(is_default=True).exists():
        Calendar.objects.get_or_create(
            name="24×7", defaults={"timezone": "UTC", "hours": ALWAYS, "is_default": True}
        )


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [
        append_only("sla_slaevent"),
        migrations.RunPython(default_calendar, migrations.RunPython.noop),
    ]
