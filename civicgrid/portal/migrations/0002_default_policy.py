"""The portal's one policy row with its defaults (edited in the admin): reopen within 15 days of closure,
10 submissions per network address per hour, 5 per phone per day, every street and community served."""

from django.db import migrations


def seed(apps, schema_editor):
    PortalPolicy = apps.get_model("portal", "PortalPolicy")
    if not PortalPolicy.objects.exists():
        PortalPolicy.objects.create(
            pk=1, reopen_window_days=15, submissions_per_ip_per_hour=10, submissions_per_phone_per_day=5
        )


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
