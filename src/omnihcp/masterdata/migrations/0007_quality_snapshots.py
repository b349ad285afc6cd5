from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("masterdata", "0006_platform_users")]

    operations: list[migrations.operations.base.Operation] = []
