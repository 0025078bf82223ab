"""Outbox handlers of the orders app: customer e-mails and hold notices.

Registered at app start-up (OrdersConfig.ready). The outbox runs a handler
at least once; each message carries `Message-ID: <outbox-N@domain>` built
from the outbox row id, so a re-run after a crash between SMTP and commit
sends the same message again, which mail servers and clients collapse.
"""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oms.lib import outbox
from oms.lib.roles import MANAGER
from orders import events as order_events
from orders.feedback_models import OrderFeedback
from orders.links import order_page_url
from orders.models import EventKind, Order, OrderEvent
from orders.selectors import following_units
from orders.services.holds import REVIEW_ALERT_HANDLER

# kind -> subject; the bodies are templates/emails/orders/<kind>.txt/.html
_SUBJECTS = {
    "received": gettext_lazy("We received your order %(number)s"),
    "confirmed": gettext_lazy("Your order %(number)s is confirmed"),
    "backordered": gettext_lazy("Your order %(number)s is waiting for stock"),
    # waiting units reserved; the rest (named, with expected dates) follows
    "allocated": gettext_lazy("Your order %(number)s: more items reserved"),
    # the backordered rest of one line will not come (extra: sku, name, quantity)
    "line_cancelled": gettext_lazy("Your order %(number)s: an item was cancelled"),
    # orders.services.changes: lines, addresses, carrier, date or notes changed
    # (extra: the "order changed" event's data)
    "changed": gettext_lazy("Your order %(number)s was changed"),
    # fulfillment.lateness: the promised date cannot be met; the new date
    "delayed": gettext_lazy("Your order %(number)s will arrive later than promised"),
    "expired": gettext_lazy("Your order %(number)s has expired"),
    "cancelled": gettext_lazy("Your order %(number)s has been cancelled"),
    "shipped": gettext_lazy("Your order %(number)s is on its way"),
    # fulfillment, once per parcel: delivered (extra: shipment, several, lines,
    # ask_feedback: the order's last parcel asks for the rating)
    "delivered": gettext_lazy("Your order %(number)s: parcel delivered"),
    # orders.services.delivery: FEEDBACK_REQUEST_DELAY_HOURS after delivery
    "feedback_request": gettext_lazy("How was your order %(number)s?"),
    # fulfillment: a carrier's exception, once per kind and parcel (extra:
    # shipment, exception_kind, description, tracking); returned to us
    # (extra: return_number of the return it opened)
    "shipment_exception": gettext_lazy("Your order %(number)s: news about your parcel"),
    "shipment_returned": gettext_lazy("Your order %(number)s: your parcel came back to us"),
    # What the customer must do for an order on hold (not for a declined
    # card: billing's "payment_link" asks for a new card instead).
    "on_hold": gettext_lazy("Your order %(number)s is on hold"),
    # Before the prepayment deadline (orders.services.holds), once per wait.
    "prepayment_reminder": gettext_lazy("Reminder: order %(number)s waits for your payment"),
    # billing: a signed link to enter card details again after a decline
    "payment_link": gettext_lazy("Order %(number)s: please check your payment details"),
    # billing: the invoice (PDF attached), money received, overdue reminders
    "invoice": gettext_lazy("Your invoice for order %(number)s"),
    "payment_received": gettext_lazy("Payment received for order %(number)s"),
    "overdue_reminder": gettext_lazy("Reminder: the invoice for order %(number)s is overdue"),
    # billing: a credit note correcting the invoice (PDF attached)
    "credit_note": gettext_lazy("A credit note for your order %(number)s"),
    # orders.return_documents: the return is accepted; instructions and RMA
    # label (PDF attached); extra: number, warehouse
    "return_approved": gettext_lazy("Your return for order %(number)s: instructions and label"),
    # the return was refused; reason as typed; extra: number
    "return_refused": gettext_lazy("Your return for order %(number)s"),
    # orders.services.address_requests: the new delivery address was refused;
    # reason as typed; extra: line1, city (what was asked)
    "address_refused": gettext_lazy("Order %(number)s: your new delivery address"),
}
# kind -> the subject for an order, in the active language
CUSTOMER_EMAILS = {kind: (lambda order, subject=subject: str(subject) % {"number": order.number})
                   for kind, subject in _SUBJECTS.items()}


def _message_id(outbox_message_id: int) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].partition("@")[2] or "oms.localhost"
    return f"<outbox-{outbox_message_id}@{domain}>"


def _send(*, subject: str, template: str, context: dict, to: list[str],
          outbox_message_id: int, attachments: list[dict] | None = None) -> str:
    """Send the e-mail; returns its text body."""
    text = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=to,
        headers={"Message-ID": _message_id(outbox_message_id)})
    message.attach_alternative(html, "text/html")
    for attachment in attachments or []:
        # Files are stored first (an invoice PDF), the payload names them.
        with default_storage.open(attachment["path"], "rb") as handle:
            message.attach(attachment["filename"], handle.read(),
                           attachment.get("mimetype", "application/pdf"))
    message.send()
    return text


@outbox.handler("orders.send_order_email")
def send_order_email(payload: dict) -> None:
    """A status e-mail to the customer, in the customer's language.

    Payload: order_id, kind, optional reason, `extra` (JSON data the template
    shows, e.g. carrier and tracking) and `attachments`
    ([{"path": storage path, "filename", "mimetype"}]).
    """
    if (payload["kind"] == "feedback_request"
            and OrderFeedback.objects.filter(order_id=payload["order_id"]).exists()):
        return  # rated on the order page before the request went out
    send_customer_email(order_id=payload["order_id"], kind=payload["kind"],
                        outbox_message_id=payload["outbox_message_id"],
                        reason=payload.get("reason", ""), extra=payload.get("extra"),
                        attachments=payload.get("attachments"))


def send_customer_email(*, order_id: int, kind: str, outbox_message_id: int, reason: str = "",
                        extra: dict | None = None,
                        attachments: list[dict] | None = None) -> bool:
    """Send one customer e-mail of `kind` (HTML and text, the customer's
    language) for an outbox row and record it on the order's timeline; False
    when this outbox row's e-mail was already sent. Other apps' outbox
    handlers (billing's payment link) call this so every customer e-mail is
    logged and sent once per row the same way."""
    if kind not in CUSTOMER_EMAILS:
        raise ValueError(f"unknown order e-mail {kind!r}")
    order = (Order.objects.select_related("customer").prefetch_related("lines")
             .get(pk=order_id))
    if OrderEvent.objects.filter(order=order, kind=EventKind.EMAIL,
                                 data__outbox_message_id=outbox_message_id).exists():
        return False  # already sent and recorded by an earlier run
    language = order.customer.preferred_language or settings.LANGUAGE_CODE
    # Times (a deadline) in the customer's language and time zone.
    with translation.override(language), timezone.override(order.customer.zone):
        order_url = order_page_url(order)
        subject = CUSTOMER_EMAILS[kind](order)
        body = _send(subject=subject, template=f"emails/orders/{kind}",
                     context={"order": order, "customer": order.customer, "reason": reason,
                              "extra": extra or {}, "following": following_units(order),
                              "deadline": order.hold_expires_at if order.is_on_hold else None,
                              "order_url": order_url,
                              # the rating form on the order page
                              "feedback_url": f"{order_url}#feedback"},
                     to=[order.customer.email], outbox_message_id=outbox_message_id,
                     attachments=attachments)
    # The timeline shows what was sent, to whom, with which files.
    order_events.email_sent(order, kind=kind, outbox_message_id=outbox_message_id,
                            to=order.customer.email, subject=subject, body=body,
                            attachments=[a["filename"] for a in attachments or []])
    return True


@outbox.handler("orders.notify_order_held")
def notify_order_held(payload: dict) -> None:
    """Signal the approvers (Sales, Accounting, Managers) that an order waits."""
    order = Order.objects.select_related("customer").get(pk=payload["order_id"])
    recipients = sorted(
        get_user_model().objects.filter(is_active=True)
        .filter(groups__permissions__codename="approve_order",
                groups__permissions__content_type__app_label="orders")
        .exclude(email="").values_list("email", flat=True).distinct())
    if not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        _send(subject=_("Order %(number)s is on hold: %(reason)s")
              % {"number": order.number, "reason": order.get_hold_reason_display()},
              template="emails/orders/held_staff",
              context={"order": order, "customer": order.customer},
              to=recipients, outbox_message_id=payload["outbox_message_id"])


@outbox.handler(REVIEW_ALERT_HANDLER)
def alert_managers_of_review(payload: dict) -> None:
    """Tell the managers an order has waited too long for a person's decision."""
    order = Order.objects.select_related("customer").get(pk=payload["order_id"])
    if not order.is_on_hold:
        return  # decided before the alert went out
    recipients = sorted(
        get_user_model().objects.filter(groups__name=MANAGER, is_active=True)
        .exclude(email="").values_list("email", flat=True).distinct())
    if not recipients:
        return
    since = order.held_since or order.placed_at or order.created_at
    link = settings.SITE_URL.rstrip("/") + reverse("billing:approval_queue")
    with translation.override(settings.LANGUAGE_CODE):
        _send(subject=_("Order %(number)s has waited %(age)s for a decision")
              % {"number": order.number, "age": timesince(since)},
              template="emails/orders/review_alert",
              context={"order": order, "customer": order.customer, "link": link},
              to=recipients, outbox_message_id=payload["outbox_message_id"])
