from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("masterdata", "0004_merge_and_stewardship")]

    operations: list[migrations.operations.base.Operation] = []
