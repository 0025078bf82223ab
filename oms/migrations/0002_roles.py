"""Create the back-office role groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now
    # so the groups start with what exists at this point.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    from oms.lib.roles import sync_roles

    sync_roles(apps=apps)


def drop_roles(apps, schema_editor):
    from oms.lib.roles import role_names

    apps.get_model("auth", "Group").objects.filter(name__in=role_names()).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("oms", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, drop_roles)]
