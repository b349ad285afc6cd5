from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("masterdata", "0007_quality_snapshots")]

    operations: list[migrations.operations.base.Operation] = []
