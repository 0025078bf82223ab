"""A customer's request, from their order page, to deliver elsewhere before
shipment; customer service accepts it (the order changes through
`orders.services.changes.change_order`) or refuses it with a reason.
Registered with the orders app by `orders.models`; services in
`orders.services.address_requests`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition


class AddressRequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # waiting for customer service
    ACCEPTED = "accepted", _("Accepted")  # the order's delivery address changed
    REFUSED = "refused", _("Refused")  # the customer was told why


class AddressChangeRequest(FSMModelMixin, models.Model):
    """The delivery address the customer asks for (the shape of
    `Order.shipping_address`), and who decided it, when and why."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE,
                              related_name="address_requests", verbose_name=_("order"))
    address = models.JSONField(_("requested address"))
    status = FSMField(_("status"), max_length=10, choices=AddressRequestStatus.choices,
                      default=AddressRequestStatus.PENDING, protected=True)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("decided by"))
    # A refusal's reason as typed; the customer reads it in the e-mail.
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("address change request")
        verbose_name_plural = _("address change requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One request waits at a time per order.
            models.UniqueConstraint(fields=["order"],
                                    condition=models.Q(status="pending"),
                                    name="orders_addressrequest_one_pending_per_order"),
        ]
        indexes = [models.Index(fields=["created_at"], name="orders_addrreq_queue_idx",
                                condition=models.Q(status="pending"))]

    def __str__(self) -> str:
        return f"{self.order_id} · {self.address.get('city', '')} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == AddressRequestStatus.PENDING

    @transition(field=status, source=AddressRequestStatus.PENDING,
                target=AddressRequestStatus.ACCEPTED)
    def accept(self, *, by_id: int | None) -> None:
        self.decided_at, self.decided_by_id = timezone.now(), by_id

    @transition(field=status, source=AddressRequestStatus.PENDING,
                target=AddressRequestStatus.REFUSED)
    def refuse(self, *, by_id: int | None, reason: str) -> None:
        self.decided_at, self.decided_by_id, self.reason = timezone.now(), by_id, reason
