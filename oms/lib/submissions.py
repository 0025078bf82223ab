"""One-time form keys: a back-office form that writes money writes once.

Each rendered form carries a fresh random key (`oms.lib.forms.SubmissionKeyField`,
hidden). The service claims the key first thing in its own transaction, with
INSERT ... ON CONFLICT DO NOTHING on the unique key, and notes what it wrote:

    with transaction.atomic(durable=True):
        submission = claim_submission(key=submission_key, purpose=PURPOSE, actor=actor)
        payment = ...
        record_submission_result(submission, payment.pk)

A replay of the same POST finds the key taken and gets `AlreadySubmitted`
(nothing written); a concurrent twin waits on the unique index until the
first one commits, then gets the same. A refused or failed write rolls the
claim back with it, so the corrected form may be sent again with its key.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from oms.lib.actors import Actor, actor_id
from oms.lib.errors import Conflict
from oms.models import FormSubmission

KEY_PATTERN = re.compile(r"[0-9a-f]{32}")


def new_submission_key() -> str:
    return secrets.token_hex(16)


def submission_key_of(token: str) -> str:
    """The key of a form whose own token is already new on every render (a
    signed, timestamped ticket): the form needs no second hidden field."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


class AlreadySubmitted(Conflict):
    """The form was submitted before; `result_id` is the row that submit wrote
    (None when the key was used by a form of another kind)."""

    def __init__(self, submission: FormSubmission, *, purpose: str):
        super().__init__(_("This form was already submitted; nothing was recorded again."),
                         code="already_submitted")
        self.submission = submission
        self.result_id = submission.result_id if submission.purpose == purpose else None


def claim_submission(*, key: str | None, purpose: str, actor: Actor) -> FormSubmission | None:
    """Claim the form's key inside the caller's transaction; None without a key
    (a write that comes from no form: a task, a data import, a test).

    Raises `AlreadySubmitted` when the key was used already."""
    if key is None:
        return None
    if not connection.in_atomic_block:
        # In autocommit the claim would stay even when the write fails.
        raise RuntimeError("claim_submission runs inside the write's transaction")
    table = FormSubmission._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, purpose, actor_id, created_at)"  # noqa: S608
            " VALUES (%s, %s, %s, %s) ON CONFLICT (key) DO NOTHING RETURNING id",
            [key, purpose, actor_id(actor), timezone.now()])
        row = cursor.fetchone()
    if row is None:
        # Committed by the first submit (a twin waited for it on the unique index).
        raise AlreadySubmitted(FormSubmission.objects.get(key=key), purpose=purpose)
    return FormSubmission(pk=row[0], key=key, purpose=purpose, actor_id=actor_id(actor))


def record_submission_result(submission: FormSubmission | None, result_id: int) -> None:
    """Note the row the submit wrote, for the answer to a replay."""
    if submission is not None:
        FormSubmission.objects.filter(pk=submission.pk).update(result_id=result_id)
        submission.result_id = result_id
