"""Two people mark the same queue row handled at the same moment: one mark
is kept (the first), and neither sees an error."""

from __future__ import annotations

import pytest

from oms.lib import workqueue
from oms.lib.roles import CUSTOMER_SERVICE
from oms.models import QueueItemHandled
from tests.factories.orders import make_order
from tests.threads import run_together


@pytest.mark.django_db(transaction=True)
def test_two_people_marking_one_row_at_once_leave_one_mark(make_user, settings):
    settings.WORK_QUEUE_HOLD_HOURS = 0
    order = make_order()
    order.refresh_from_db()  # the approval ran after the commit
    assert order.is_on_hold, order.status
    first, second = make_user(CUSTOMER_SERVICE, username="ann"), make_user(CUSTOMER_SERVICE,
                                                                          username="bob")
    (row,) = workqueue.collect(first)

    def mark(user):
        return lambda: workqueue.mark_handled(kind=row.kind, object_id=row.object_id,
                                              version=row.version, note=user.username,
                                              actor=user)

    results = run_together(*[mark(first), mark(second)])
    assert all(isinstance(result, QueueItemHandled) for result in results), results
    kept = QueueItemHandled.objects.get()
    assert {result.pk for result in results} == {kept.pk}
    assert kept.note == kept.handled_by.username
    assert workqueue.collect(first) == []
