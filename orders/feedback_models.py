"""The customer's rating of a delivered order, given on their order page
(`/o/<token>/`). Registered with the orders app by `orders.models`; written
only by `orders.services.feedback`."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MIN_RATING = 1
MAX_RATING = 5
MAX_COMMENT = 2000


class OrderFeedback(models.Model):
    """One answer per order: a rating from 1 (bad) to 5 (very good) and an
    optional comment, in the language the customer wrote it in."""

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE,
                                 related_name="feedback", verbose_name=_("order"))
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(MIN_RATING), MaxValueValidator(MAX_RATING)])
    comment = models.TextField(_("comment"), max_length=MAX_COMMENT, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    # The customer may correct the answer for a while (orders.services.feedback).
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("order feedback")
        verbose_name_plural = _("order feedback")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=MIN_RATING, rating__lte=MAX_RATING),
                name="orders_orderfeedback_rating_range"),
        ]
        indexes = [models.Index(fields=["-submitted_at", "-id"],
                                name="orders_feedback_recent_idx")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.rating}/5"
