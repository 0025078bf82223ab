"""Shared fixtures: real PostgreSQL and Redis, users per role, a browser."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from oms.lib.roles import ROLE_PERMISSIONS

ROLES = list(ROLE_PERMISSIONS)
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _english_and_eager_tasks(settings):
    settings.LANGUAGE_CODE = "en"
    # Outbox tasks run in-process in unit tests unless a test starts a worker
    # (tests/oms/test_outbox.py). The Celery app read its settings once at
    # start-up, so the switch goes to its live config, not to Django settings.
    from oms.celery import app as celery_app

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _media_in_a_temporary_root(settings, tmp_path, monkeypatch):
    """Files a test stores (invoice PDFs, report files, order imports) go to its
    own temporary media root, never to the checkout's .data/media where `make
    run` keeps the demo's. Processes a test starts (gunicorn, bench clients)
    read it from the environment, like settings.py."""
    media_root = tmp_path / "media"
    settings.MEDIA_ROOT = media_root
    monkeypatch.setenv("MEDIA_ROOT", str(media_root))


@pytest.fixture
def fresh_shared_cache():
    """An empty shared cache (Redis) before and after the test: no rate-limit
    window or cached count of another test counts in this one."""
    from django.core.cache import caches

    caches["shared"].clear()
    yield
    caches["shared"].clear()


@pytest.fixture
def make_user(db):
    def make(role: str | None = None, *, username: str | None = None, **extra):
        User = get_user_model()
        username = username or (role or "user").lower().replace(" ", "_")
        user = User.objects.create_user(username=username, password=PASSWORD,
                                        email=f"{username}@oms.example", **extra)
        if role:
            user.groups.add(Group.objects.get(name=role))
            if role == "Admin":
                user.is_staff = True
                user.save(update_fields=["is_staff"])
        return user

    return make


@pytest.fixture
def client_for(client, make_user):
    """A test client logged in as a fresh user of the given role."""

    def login(role: str):
        user = make_user(role)
        client.force_login(user)
        client.user = user
        return client

    return login


# Browser tests: Debian's Chromium, never a downloaded one.
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"],
    }


@pytest.fixture(scope="session", autouse=True)
def _allow_sync_orm_next_to_playwright():
    # Playwright's sync API runs an event loop in the test thread; the ORM
    # calls we make there are ordinary synchronous code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
