"""Roles are groups with exactly the permissions ROLE_PERMISSIONS names."""

import pytest
from django.contrib.auth.models import Group, Permission

from oms.lib.roles import ADMIN, PLANNED_PERMISSIONS, ROLE_PERMISSIONS, sync_roles


def _existing() -> set[str]:
    return {f"{app}.{codename}" for app, codename in
            Permission.objects.values_list("content_type__app_label", "codename")}


def _named() -> set[str]:
    return {name for names in ROLE_PERMISSIONS.values() for name in names}


@pytest.mark.django_db
def test_every_role_permission_exists_after_migrate():
    missing = sorted(_named() - PLANNED_PERMISSIONS - _existing())
    assert missing == [], f"ROLE_PERMISSIONS names permissions no migration creates: {missing}"


@pytest.mark.django_db
def test_planned_permissions_are_still_only_planned():
    arrived = sorted(PLANNED_PERMISSIONS & _existing())
    assert arrived == [], f"these exist now; remove them from PLANNED_PERMISSIONS: {arrived}"
    unused = sorted(PLANNED_PERMISSIONS - _named())
    assert unused == [], f"PLANNED_PERMISSIONS lists codenames no role uses: {unused}"


@pytest.mark.django_db
def test_migrate_creates_every_role_with_exactly_its_permissions():
    existing = _existing()
    for role, names in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        granted = {f"{p.content_type.app_label}.{p.codename}"
                   for p in group.permissions.select_related("content_type")}
        expected = existing if role == ADMIN else set(names) & existing
        assert granted == expected, role


@pytest.mark.django_db
def test_sync_roles_takes_back_a_permission_granted_by_hand():
    sales = Group.objects.get(name="Sales")
    sales.permissions.add(Permission.objects.get(codename="delete_outboxmessage"))
    sync_roles()
    assert not sales.permissions.filter(codename="delete_outboxmessage").exists()
