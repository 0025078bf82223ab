"""Staff notices: the bell in the top bar and the e-mail digest.

A `oms.Notice` row tells one user one fact (an order of theirs to watch
arrived). Apps write them in bulk from their outbox handlers (orders matches
its notice rules in `orders.notices`) and register how each kind reads
(`register(kind, describe)`), so this module imports no app. The words are
made when shown, in the reader's language.

The digest (`claim_digests`, hourly beat task) e-mails each user who asked
for it their unread notices not yet e-mailed: one UPDATE claims them
(`emailed_at`) and queues one outbox e-mail per user in the same
transaction, so a second run, or a twin running at once, finds nothing left
and sends nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from oms.lib import outbox
from oms.lib.errors import ApplicationError
from oms.models import DigestFrequency, Notice, UserPreference

DIGEST_HANDLER = "oms.send_notice_digest"
# The bell counts up to this many; more show as "99+".
BELL_CAP = 99
# A daily digest goes out when the last one is at least this old (the beat
# runs hourly, so a few minutes' drift must not skip a day).
DAILY_AFTER = timedelta(hours=23, minutes=30)


@dataclass(frozen=True, slots=True)
class Described:
    text: str
    url: str


# kind -> data -> words and link in the active language.
_KINDS: dict[str, Callable[[dict], Described]] = {}


def register(kind: str, describe: Callable[[dict], Described]) -> None:
    _KINDS[kind] = describe


def describe(notice: Notice) -> Described:
    describer = _KINDS.get(notice.kind)
    if describer is None:
        return Described(text=notice.subject, url="")
    return describer(notice.data)


def unread_count(user: Any) -> int:
    """The bell's number: the ids of at most BELL_CAP + 1 unread notices, one
    index-only read of the partial unread index (no COUNT over a long tail)."""
    return len(Notice.objects.filter(user=user, read_at__isnull=True).order_by()
               .values_list("pk", flat=True)[:BELL_CAP + 1])


def bell(request: HttpRequest) -> dict:
    """Context processor: the unread count for the top bar (signed in only)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: pages that do not show the bar (a partial) never count.
    return {"notice_count": lambda: unread_count(user), "notice_cap": BELL_CAP}


def mark_read(*, user: Any, notice_ids: Sequence[int] | None = None) -> int:
    """Mark the user's notices read (all unread ones when `notice_ids` is
    None); another user's ids are ignored. Returns how many changed."""
    with transaction.atomic(durable=True):
        rows = Notice.objects.filter(user=user, read_at__isnull=True)
        if notice_ids is not None:
            rows = rows.filter(pk__in=notice_ids)
        return rows.update(read_at=timezone.now())


def set_digest_frequency(*, user: Any, frequency: str) -> None:
    """How often the user's unread notices are e-mailed."""
    if frequency not in DigestFrequency.values:
        message = _("Choose how often to be e-mailed.")
        raise ApplicationError(message, field_errors={"notice_digest": [message]})
    with transaction.atomic(durable=True):
        UserPreference.objects.update_or_create(user=user,
                                                defaults={"notice_digest": frequency})


# One statement claims every due user's unread notices not yet e-mailed. The
# row locks make a concurrent run wait, then skip what this one claimed.
_CLAIM_SQL = """
UPDATE oms_notice n
   SET emailed_at = %(now)s
  FROM oms_userpreference p
 WHERE p.user_id = n.user_id
   AND n.read_at IS NULL AND n.emailed_at IS NULL
   AND (p.notice_digest = 'hourly'
        OR (p.notice_digest = 'daily'
            AND (p.last_digest_at IS NULL OR p.last_digest_at <= %(daily_due)s)))
RETURNING n.user_id, n.id
"""


def claim_digests(*, now: datetime | None = None) -> int:
    """Queue one digest e-mail per user with unread notices due; returns how
    many e-mails were queued (none when nothing is new)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, {"now": now, "daily_due": now - DAILY_AFTER})
            claimed = cursor.fetchall()
        by_user: dict[int, list[int]] = defaultdict(list)
        for user_id, notice_id in claimed:
            by_user[user_id].append(notice_id)
        if not by_user:
            return 0
        UserPreference.objects.filter(user_id__in=list(by_user)).update(last_digest_at=now)
        outbox.enqueue_many(DIGEST_HANDLER, [
            ({"user_id": user_id, "notice_ids": sorted(ids)},
             f"oms:notice-digest:{user_id}:{max(ids)}")
            for user_id, ids in sorted(by_user.items())])
        return len(by_user)


@outbox.handler(DIGEST_HANDLER)
def send_notice_digest(payload: dict) -> None:
    """The digest e-mail, in the user's language; notices read since the
    claim are left out (nothing left: no e-mail)."""
    user = get_user_model().objects.filter(pk=payload["user_id"], is_active=True).first()
    if user is None or not user.email:
        return
    notices = list(Notice.objects.filter(pk__in=payload["notice_ids"], user=user,
                                         read_at__isnull=True).order_by("created_at", "id"))
    if not notices:
        return
    preference = UserPreference.objects.filter(user=user).first()
    language = (preference.language if preference and preference.language
                else settings.LANGUAGE_CODE)
    site = settings.SITE_URL.rstrip("/")
    with translation.override(language):
        items = [describe(notice) for notice in notices]
        context = {"user": user, "items": [
            {"text": item.text, "url": site + item.url if item.url else ""} for item in items],
            "link": site + reverse("notices")}
        subject = translation.ngettext("%(count)d new notice", "%(count)d new notices",
                                       len(items)) % {"count": len(items)}
        message = EmailMultiAlternatives(
            subject=subject, body=render_to_string("emails/oms/notice_digest.txt", context),
            to=[user.email],
            headers={"Message-ID": f"<notice-digest-{payload['outbox_message_id']}@oms>"})
        message.attach_alternative(render_to_string("emails/oms/notice_digest.html", context),
                                   "text/html")
        message.send()
