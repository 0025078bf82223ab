"""Factories for reporting: subscriptions through the service (it creates
the beat task), runs as rows of a subscription."""

from __future__ import annotations

from datetime import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from reporting.models import ReportRun, ReportSubscription, RunStatus
from reporting.subscriptions import SubscriptionData, create_subscription


def make_reportsubscription(*, owner=None, **overrides) -> ReportSubscription:
    if owner is None:
        owner, created = get_user_model().objects.get_or_create(
            username="report-owner", defaults={"email": "report-owner@oms.example"})
        if created:
            owner.groups.add(Group.objects.get(name="Manager"))
    data = SubscriptionData(**{
        "name": "Daily sales", "report": "sales_summary", "period": "yesterday",
        "format": "csv", "schedule": "daily", "send_time": time(7, 0),
        "timezone": "Europe/Paris", "language": "en", "recipient_ids": [owner.pk],
        **overrides})
    return create_subscription(data=data, actor=owner)


def make_reportrun(*, subscription=None, status: str = RunStatus.FAILED) -> ReportRun:
    subscription = subscription or make_reportsubscription()
    slot = timezone.now().replace(microsecond=0)
    return ReportRun.objects.create(subscription=subscription, scheduled_for=slot,
                                    period_start=slot, period_end=slot, status=status,
                                    error="example failure")
