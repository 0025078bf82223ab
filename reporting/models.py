"""Reporting: the manager dashboard and exports.

reporting is the top layer: it may read every app (through their selectors
where they have one, or aggregate SQL over their models) and writes nothing
but its own records. It owns no business state; `ReportingAccess` exists only
to carry the permissions of the reports (no table).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportingAccess(models.Model):
    """Holder of the reporting permissions; never stored."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("reporting access")
        verbose_name_plural = _("reporting access")
        permissions = [
            ("view_manager_dashboard", _("Can view the manager dashboard")),
            ("view_reports", _("Can view and export reports")),
        ]
