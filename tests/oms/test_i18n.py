"""French ships with the product: navigation, dates, numbers and money follow the language."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

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
    assert "March 5, 2026" in english

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
        assert template.render(context) == "1,234.5|11/22/2026"
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


def test_every_french_entry_is_translated():
    from pathlib import Path

    from babel.messages.pofile import read_po

    po = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    with po.open("rb") as handle:
        catalogue = read_po(handle)
    untranslated = [message.id for message in catalogue if message.id and (
        "fuzzy" in message.flags or not (all(message.string) if isinstance(
            message.string, tuple) else message.string))]
    assert untranslated == []
