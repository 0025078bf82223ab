"""Invoice numbers under concurrency on real PostgreSQL: gapless and unique."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from billing import services
from billing.models import DocumentCounter, Invoice
from tests.factories.orders import make_order

WORKERS = 30


class ForcedRollback(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_issues_with_rollbacks_leave_contiguous_unique_numbers():
    orders = [make_order() for _ in range(WORKERS)]
    # Every third issue rolls back after it took its number.
    doomed = {order.pk for index, order in enumerate(orders) if index % 3 == 0}
    barrier = threading.Barrier(WORKERS)
    taken: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def issue(order_id: int) -> None:
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                invoice = services.issue_invoice(order_id=order_id, actor=None)
                with lock:
                    taken.append(invoice.number)
                if order_id in doomed:
                    raise ForcedRollback
        except ForcedRollback:
            pass
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(order.pk,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    committed = WORKERS - len(doomed)
    year = timezone.localdate().year
    sequences = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, committed + 1))  # contiguous, no duplicates
    numbers = list(Invoice.objects.values_list("number", flat=True))
    assert len(set(numbers)) == committed
    assert all(number.startswith(f"INV-{year}-") for number in numbers)
    assert DocumentCounter.objects.get(series="INV", year=year).last_number == committed
    # The rolled-back issues did take numbers; those were handed out again
    # unless no later issue came after them, so never more than the committed
    # numbers plus the doomed ones, and every committed number was taken.
    assert len(taken) == WORKERS
    assert set(numbers) <= set(taken)
    assert committed <= len(set(taken)) <= WORKERS
    assert not Invoice.objects.filter(order_id__in=doomed).exists()


@pytest.mark.django_db
def test_numbers_restart_per_year_and_series():
    first = services.issue_invoice(order_id=make_order().pk, actor=None,
                                   today=timezone.localdate().replace(year=2030))
    second = services.issue_invoice(order_id=make_order().pk, actor=None,
                                    today=timezone.localdate().replace(year=2031))
    assert (first.number, second.number) == ("INV-2030-000001", "INV-2031-000001")
