"""The menu shows what the user may open and marks exactly one entry as current."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.urls import path

from oms.lib import navigation
from oms.lib.navigation import NavItem


def _page(request, **kwargs):
    return HttpResponse()


urlpatterns = [
    path("", _page, name="home"),
    path("orders/", _page, name="orders"),
    path("orders/entry/", _page, name="entry"),
    path("orders/<int:pk>/", _page, name="order"),
    path("customers/", _page, name="customers"),
]

ITEMS = [
    NavItem("Home", "home", "oms.view_dashboard", "Overview"),
    NavItem("Orders", "orders", "orders.view_order", "Orders"),
    NavItem("New order", "entry", "orders.add_order", "Orders"),
    NavItem("Customers", "customers", "customers.view_customer", "Customers"),
]


@pytest.fixture
def menu_for(monkeypatch, make_user):
    monkeypatch.setattr(navigation, "NAVIGATION", ITEMS)

    def menu(role: str, at: str) -> dict[str, bool]:
        request = RequestFactory().get(at)
        request.user = make_user(role, username=f"{role}-{at}")
        return {item["label"]: item["active"]
                for item in navigation.navigation(request)["nav_items"]}

    return menu


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize(("at", "current"), [
    ("/", "Home"),
    ("/orders/", "Orders"),
    ("/orders/17/", "Orders"),
    ("/orders/entry/", "New order"),
    ("/orders/entry/lines/", "New order"),
    ("/customers/?q=smith", "Customers"),
    ("/admin/", None),
])
def test_exactly_one_entry_is_current(menu_for, at, current):
    menu = menu_for("Admin", at)
    assert [label for label, active in menu.items() if active] == ([current] if current else [])


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_the_menu_lists_only_what_the_role_may_open(menu_for):
    assert list(menu_for("Warehouse", "/")) == ["Home", "Orders"]
    assert list(menu_for("Sales", "/")) == ["Home", "Orders", "New order", "Customers"]


def test_anonymous_users_get_no_menu(rf):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/")
    request.user = AnonymousUser()
    assert navigation.navigation(request) == {"nav_items": []}
