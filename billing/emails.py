"""Outbox handlers of billing: the e-mails payment approval sends.

Registered at app start-up (imported in `BillingConfig.ready()`). They run
after the business transaction committed, possibly more than once: the
Message-ID is derived from the outbox row, so a mail server can drop a
duplicate.
"""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from billing.services import card_link_token, order_awaits_card
from oms.lib import outbox
from oms.lib.roles import MANAGER
from orders.emails import send_customer_email
from orders.models import Order


def site_url() -> str:
    return getattr(settings, "SITE_URL", "http://localhost:8000").rstrip("/")


def _send(*, to: list[str], template: str, context: dict, message_id: int | None,
          language: str) -> None:
    with translation.override(language):
        subject = render_to_string(f"emails/billing/{template}_subject.txt", context)
        body = render_to_string(f"emails/billing/{template}.txt", context)
        html = render_to_string(f"emails/billing/{template}.html", context)
    # Same Message-ID scheme as orders' e-mails: a re-run after a crash
    # between SMTP and commit sends a message the mail server collapses.
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].partition("@")[2] or "oms.localhost"
    headers = {"Message-ID": f"<outbox-{message_id}@{domain}>"} if message_id else {}
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=body, to=to,
                                     headers=headers)
    message.attach_alternative(html, "text/html")
    message.send()


@outbox.handler("billing.card_retry_email")
def send_card_retry_email(payload: dict) -> None:
    """Ask the customer for new card details through a signed link.

    Sent as orders' "payment_link" customer e-mail: HTML and text, the
    customer's language, recorded on the order timeline, once per outbox row.
    """
    order = Order.objects.select_related("customer").get(pk=payload["order_id"])
    if not order_awaits_card(order):
        return  # resolved before the mail went out: nothing to ask for
    link = site_url() + reverse("billing:card_retry",
                                kwargs={"token": card_link_token(order_id=order.pk)})
    # The e-mail states the order's deadline (orders.holds: the link's lifetime
    # from the hold), which the link, signed now, outlives.
    send_customer_email(order_id=order.pk, kind="payment_link",
                        outbox_message_id=payload["outbox_message_id"], extra={"link": link})


@outbox.handler("billing.prepayment_missing_email")
def send_prepayment_missing_email(payload: dict) -> None:
    """Signal the managers that an order waits for its prepayment."""
    order = Order.objects.select_related("customer").get(pk=payload["order_id"])
    recipients = sorted(
        get_user_model().objects.filter(groups__name=MANAGER, is_active=True)
        .exclude(email="").values_list("email", flat=True).distinct())
    if not recipients:
        return
    link = site_url() + reverse("billing:approval_queue")
    _send(to=recipients, template="prepayment_missing",
          context={"order": order, "customer": order.customer, "link": link},
          message_id=payload.get("outbox_message_id"), language=settings.LANGUAGE_CODE)
