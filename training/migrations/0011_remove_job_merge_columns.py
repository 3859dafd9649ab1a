from django.db import migrations


class Migration(migrations.Migration):
    """The merged model's old columns on TrainingJob, copied into AdapterMerge rows by 0010 (its own
    migration, so PostgreSQL alters the table in a transaction without 0010's pending row writes)."""

    dependencies = [
        ("training", "0010_background_runs"),
    ]

    operations = [
        migrations.RemoveField(
            model_name='trainingjob',
            name='merge_error',
        ),
        migrations.RemoveField(
            model_name='trainingjob',
            name='merge_status',
        ),
        migrations.RemoveField(
            model_name='trainingjob',
            name='merged_dir',
        ),
    ]
