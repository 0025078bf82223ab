"""The product's WSGI application with no payment approver registered: the
API places orders and answers `placed` with their holds, the work the SQL
baseline mirrors (bench scenario 2's target row). Never used outside the bench."""

from oms.wsgi import application  # noqa: F401  (sets Django up, billing registers its approver)
from orders.payments import register_payment_approver

register_payment_approver(None)
