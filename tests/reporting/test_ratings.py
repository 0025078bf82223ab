"""Customer ratings on the manager dashboard: the average, the answers per
week for the last eight weeks, the five lowest with links to their orders,
in a constant number of queries."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.feedback_models import OrderFeedback
from reporting.selectors import customer_ratings
from tests.factories.orders import make_order

pytestmark = pytest.mark.django_db

# A Friday noon: its week began on Monday 30 November.
NOW = timezone.make_aware(datetime(2026, 12, 4, 12, 0))


def _rate(rating: int, at: datetime, comment: str = "") -> OrderFeedback:
    return OrderFeedback.objects.create(order=make_order(), rating=rating, comment=comment,
                                        submitted_at=at, updated_at=at)


def test_average_weeks_and_the_lowest_ratings():
    _rate(5, NOW - timedelta(hours=1))
    _rate(3, NOW - timedelta(days=1))
    worst = _rate(1, NOW - timedelta(weeks=2), comment="Broken on arrival")
    _rate(1, NOW - timedelta(weeks=10))  # before the window
    ratings = customer_ratings(now=NOW)
    assert len(ratings.weeks) == 8
    assert ratings.weeks[-1].week_start == timezone.localdate(NOW) - timedelta(
        days=timezone.localdate(NOW).weekday())
    assert (ratings.weeks[-1].answers, ratings.weeks[-1].average) == (2, Decimal("4.0"))
    assert (ratings.weeks[-3].answers, ratings.weeks[-3].average) == (1, Decimal("1.0"))
    assert ratings.weeks[0].answers == 0 and ratings.weeks[0].average is None
    assert (ratings.answers, ratings.average) == (3, Decimal("3.0"))
    assert [answer.rating for answer in ratings.worst] == [1, 3, 5]
    assert ratings.worst[0] == worst


def test_only_the_five_lowest_are_listed_newest_first_among_equals():
    for day in range(7):
        _rate(2, NOW - timedelta(days=day))
    ratings = customer_ratings(now=NOW)
    assert len(ratings.worst) == 5
    times = [answer.submitted_at for answer in ratings.worst]
    assert times == sorted(times, reverse=True)


def _queries(now) -> int:
    with CaptureQueriesContext(connection) as captured:
        ratings = customer_ratings(now=now)
        [answer.order.customer.name for answer in ratings.worst]  # noqa: B018
    return len(captured)


def test_the_ratings_cost_two_queries_whatever_their_number():
    _rate(4, NOW - timedelta(days=1))
    few = _queries(NOW)
    for day in range(12):
        _rate(1 + day % 5, NOW - timedelta(days=day * 3))
    assert _queries(NOW) == few == 2


def test_the_dashboard_shows_the_panel_with_links_to_the_orders(client_for):
    answer = _rate(1, timezone.now() - timedelta(hours=2), comment="Never again")
    response = client_for("Manager").get(reverse("reporting:manager_dashboard"))
    html = response.content.decode()
    assert 'id="report-ratings"' in html
    assert 'data-kpi="rating-average">1.0 / 5<' in html
    assert reverse("orders:detail", args=[answer.order_id]) in html
    assert "Never again" in html
