"""Staff groups clerk / billing / administrator with their rights on cases.

Other apps add their own permissions to the same groups in their own migrations (get_or_create by name).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_PERMISSIONS = {
    # Clerks answer cases: read everything about them, reply, assign, write internal notes.
    "clerk": [
        "view_case",
        "change_case",
        "view_message",
        "view_attachment",
        "view_casenote",
        "add_casenote",
    ],
    # Billing staff read cases (many are about settlements) and note what the billing system did.
    "billing": ["view_case", "view_message", "view_attachment", "view_casenote", "add_casenote"],
    # Administrators may do anything with cases, including deleting them.
    "administrator": [
        f"{action}_{model}"
        for model in ("case", "message", "attachment", "casenote")
        for action in ("add", "change", "delete", "view")
    ],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; create the app's now so they can be granted.
    app_config = apps.get_app_config("tickets")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="tickets", codename__in=codenames)
        )


def remove_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=GROUP_PERMISSIONS):
        group.permissions.remove(*group.permissions.filter(content_type__app_label="tickets"))


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_permissions)]
