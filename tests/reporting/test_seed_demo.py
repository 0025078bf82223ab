"""seed_demo: one demo login per role, and running it twice changes nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from oms.lib.roles import ADMIN, ROLE_PERMISSIONS
from reporting.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS


@pytest.mark.django_db
def test_seed_demo_twice_creates_each_demo_user_once(capsys):
    call_command("seed_demo")
    call_command("seed_demo")

    User = get_user_model()
    assert User.objects.filter(username__in=DEMO_USERS).count() == len(DEMO_USERS)
    assert set(DEMO_USERS.values()) == set(ROLE_PERMISSIONS)
    for username, role in DEMO_USERS.items():
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.check_password(DEMO_PASSWORD)
        assert user.is_superuser == user.is_staff == (role == ADMIN)
    out = capsys.readouterr().out
    assert out.count(f"sales        / {DEMO_PASSWORD}") == 2


@pytest.mark.django_db
def test_seed_demo_keeps_a_changed_password_unless_asked(client):
    call_command("seed_demo")
    user = get_user_model().objects.get(username="sales")
    user.set_password("changed-by-the-user")
    user.save()

    call_command("seed_demo")
    user.refresh_from_db()
    assert user.check_password("changed-by-the-user")

    call_command("seed_demo", reset_passwords=True)
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_demo_login_reaches_the_dashboard(client):
    call_command("seed_demo")
    response = client.post("/accounts/login/",
                           {"username": "manager", "password": DEMO_PASSWORD}, follow=True)
    assert response.status_code == 200
    assert response.wsgi_request.user.username == "manager"
