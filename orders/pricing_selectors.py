"""Reads of what orders are priced with: price lists with their prices,
and discount codes with their uses and state."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, CharField, Count, F, Q, QuerySet, TextChoices, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy

from orders.models import CLOSED, DiscountCode, PriceList, PriceListEntry


def price_lists() -> QuerySet[PriceList]:
    """Every price list with its scope and number of prices, defaults first."""
    return (PriceList.objects.select_related("customer", "customer_group")
            .annotate(price_count=Count("entries"))
            .order_by(F("customer_id").asc(nulls_first=True),
                      F("customer_group_id").asc(nulls_first=True), "currency", "valid_from",
                      "pk"))


def price_list_entries(*, price_list: PriceList) -> QuerySet[PriceListEntry]:
    return (price_list.entries.select_related("product")
            .order_by("product__sku", "min_quantity"))



# --- discount codes ----------------------------------------------------------------

class CodeState(TextChoices):
    ACTIVE = "active", gettext_lazy("Active")
    SCHEDULED = "scheduled", gettext_lazy("Not yet valid")
    EXPIRED = "expired", gettext_lazy("Expired")
    EXHAUSTED = "exhausted", gettext_lazy("Used up")
    INACTIVE = "inactive", gettext_lazy("Deactivated")


def _code_state(now: datetime) -> Case:
    """A code's state in SQL, the first that holds in this order (a
    deactivated code is that, whatever its dates)."""
    return Case(
        When(is_active=False, then=Value(CodeState.INACTIVE.value)),
        When(valid_until__lte=now, then=Value(CodeState.EXPIRED.value)),
        When(max_uses__isnull=False, uses__gte=F("max_uses"),
             then=Value(CodeState.EXHAUSTED.value)),
        When(valid_from__gt=now, then=Value(CodeState.SCHEDULED.value)),
        default=Value(CodeState.ACTIVE.value), output_field=CharField())


def discount_codes(*, query: str = "", state: str = "") -> QuerySet[DiscountCode]:
    """Codes with their uses (by orders neither cancelled nor expired, as
    placement counts them) and their state; `query` searches the code and
    its description, `state` is a `CodeState`. One query."""
    codes = (DiscountCode.objects
             .annotate(uses=Count("redemptions",
                                  filter=~Q(redemptions__order__status__in=CLOSED)))
             .annotate(state=_code_state(timezone.now())))
    if query:
        codes = codes.filter(Q(code__icontains=query) | Q(description__icontains=query))
    if state:
        codes = codes.filter(state=state)
    return codes.order_by("code", "pk")
