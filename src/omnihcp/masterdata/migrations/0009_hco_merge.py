import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("masterdata", "0008_matching_models"),
    ]

    operations = [
        migrations.AddField(
            model_name="fieldlineage",
            name="from_hco",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="masterdata.hco",
            ),
        ),
        migrations.AddField(
            model_name="fieldlineage",
            name="hco",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="lineage",
                to="masterdata.hco",
            ),
        ),
        migrations.AddField(
            model_name="mergeevent",
            name="merged_hco",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="masterdata.hco",
            ),
        ),
        migrations.AddField(
            model_name="mergeevent",
            name="survivor_hco",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="merge_events",
                to="masterdata.hco",
            ),
        ),
        migrations.AlterField(
            model_name="fieldlineage",
            name="hcp",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="lineage",
                to="masterdata.hcp",
            ),
        ),
        migrations.AddIndex(
            model_name="fieldlineage",
            index=models.Index(fields=["hco", "field"], name="lineage_hco_field_idx"),
        ),
        migrations.AddConstraint(
            model_name="fieldlineage",
            constraint=models.CheckConstraint(
                condition=models.Q(("hcp__isnull", False), ("hco__isnull", False), _connector="OR"),
                name="lineage_has_target",
            ),
        ),
    ]
