from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("masterdata", "0005_data_change_requests")]

    operations: list[migrations.operations.base.Operation] = []
