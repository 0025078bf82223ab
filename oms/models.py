"""Models of the project itself: the outbox and the back-office permissions.

`oms` owns cross-cutting rows only; it imports no domain app.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """A side effect written inside a business transaction, run after commit.

    The row commits or rolls back with the business change, so a side effect
    is never sent for a change that did not happen, and never lost for one
    that did: the relay re-dispatches rows the broker missed.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")  # waiting to be run (again)
        DONE = "done", _("Done")  # ran and committed its effect
        FAILED = "failed", _("Failed")  # gave up after the maximum attempts

    handler = models.CharField(_("handler"), max_length=100)
    payload = models.JSONField(_("payload"), default=dict)
    # Optional natural key: a second enqueue with the same key is a no-op, so
    # "send reminder level 2 for invoice 7" can be asked for twice safely.
    dedup_key = models.CharField(_("deduplication key"), max_length=200, null=True,
                                 blank=True, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    available_at = models.DateTimeField(_("available at"), auto_now_add=True)
    dispatched_at = models.DateTimeField(_("last dispatched at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["available_at"], name="outbox_pending_idx",
                         condition=models.Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.handler} ({self.status})"


class BackOffice(models.Model):
    """Holds the back-office permissions that belong to no single model."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_dashboard", _("Can view the back-office dashboard")),
        ]
