"""Languages ship with the product: navigation, dates, numbers and money follow
the language, which a signed-in user keeps on every device."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation

from oms.models import UserPreference
from oms.templatetags.oms_tags import money


def _plain_spaces(text: str) -> str:
    # French groups digits with a narrow no-break space and puts a no-break
    # space before the euro sign; compare them as ordinary spaces.
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.mark.django_db
@time_machine.travel(datetime(2026, 3, 5, 10, 0, tzinfo=UTC), tick=False)
def test_switching_to_french_translates_navigation_and_formats_the_date(client_for):
    client = client_for("Sales")
    english = client.get(reverse("dashboard")).content.decode()
    assert '<html lang="en">' in english
    assert ">Dashboard</a>" in english
    assert "5 March 2026" in english

    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert response.status_code == 302

    french = client.get(reverse("dashboard")).content.decode()
    assert '<html lang="fr">' in french
    assert ">Tableau de bord</a>" in french
    assert "Navigation principale" in french
    assert "Se déconnecter" in french
    assert "5 mars 2026" in french


def test_numbers_and_dates_follow_the_active_language():
    template = Template('{% load l10n %}{{ amount }}|{{ day|date:"SHORT_DATE_FORMAT" }}')
    context = Context({"amount": Decimal("1234.5"), "day": date(2026, 11, 22)})
    with translation.override("en"):
        # English as written in Europe: day before month.
        assert template.render(context) == "1,234.5|22/11/2026"
    with translation.override("fr"):
        assert _plain_spaces(template.render(context)) == "1 234,5|22/11/2026"


def test_money_is_formatted_for_the_active_language():
    with translation.override("en"):
        assert money(Decimal("1234.5"), "EUR") == "€1,234.50"
        assert money(Decimal("-0.5"), "USD") == "-$0.50"
    with translation.override("fr"):
        assert _plain_spaces(money(Decimal("1234.5"), "EUR")) == "1 234,50 €"
        assert _plain_spaces(money(Decimal("1234.5"), "USD")) == "1 234,50 $US"
    assert money(None) == ""


def test_money_in_a_template_uses_the_default_currency():
    template = Template("{% load oms_tags %}{{ amount|money }}")
    with translation.override("fr"):
        assert _plain_spaces(template.render(Context({"amount": Decimal("9.99")}))) == "9,99 €"


@pytest.mark.django_db
def test_the_chosen_language_is_saved_with_the_user_and_follows_them_to_another_browser(
        client_for):
    client = client_for("Sales")
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert UserPreference.objects.get(user=client.user).language == "fr"

    other_browser = Client()  # no language cookie
    other_browser.force_login(client.user)
    page = other_browser.get(reverse("dashboard")).content.decode()
    assert '<html lang="fr">' in page
    assert ">Tableau de bord</a>" in page


@pytest.mark.django_db
def test_one_users_choice_does_not_change_another_users_language(client_for, make_user):
    client_for("Sales").post(reverse("set_language"), {"language": "fr", "next": "/"})
    colleague = Client()
    colleague.force_login(make_user("Sales", username="colleague"))
    assert '<html lang="en">' in colleague.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_a_language_not_offered_is_not_saved(client_for):
    client = client_for("Sales")
    response = client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert not UserPreference.objects.filter(user=client.user).exists()
    assert '<html lang="en">' in client.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_before_signing_in_the_choice_is_kept_in_the_browser_only(client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "fr"
    assert not UserPreference.objects.exists()
    assert '<html lang="fr">' in client.get(reverse("login")).content.decode()
