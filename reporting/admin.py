"""Admin of scheduled reports: subscriptions are edited in the back office
(reporting.views_subscriptions), which keeps their beat task in step, so the
admin shows them read-only; runs are a history, with "send now" and "retry"
as actions through reporting.subscriptions."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from oms.lib.admin import ReadOnlyAdmin, run_action
from reporting import subscriptions
from reporting.models import ReportRun, ReportSubscription


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["name", "report", "period", "format", "schedule", "send_time", "timezone",
                    "owner", "is_active", "updated_at"]
    list_filter = ["report", "format", "schedule", "is_active"]
    search_fields = ["name", "owner__username", "extra_emails"]
    readonly_fields = ["created_at", "updated_at", "periodic_task"]
    actions = ["send_now"]

    def has_delete_permission(self, request, obj=None):
        # Deleting goes through the service, which also removes the beat task.
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

    @admin.action(description=_("Send now"), permissions=["view"])
    def send_now(self, request, queryset):
        for subscription in queryset:
            subscriptions.request_run(subscription_id=subscription.pk, actor=request.user)
        messages.success(request, _("The reports are being built and sent."))

    def delete_model(self, request, obj):
        subscriptions.delete_subscription(subscription_id=obj.pk, actor=request.user)

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            self.delete_model(request, subscription)


@admin.register(ReportRun)
class ReportRunAdmin(ReadOnlyAdmin):
    list_display = ["subscription", "scheduled_for", "period_start", "period_end", "status",
                    "rows", "size", "delivered_as", "attempts", "finished_at"]
    list_filter = ["status", "manual", "delivered_as"]
    search_fields = ["subscription__name", "error"]
    date_hierarchy = "scheduled_for"
    readonly_fields = ["created_at", "started_at", "finished_at"]
    actions = ["retry"]

    @admin.action(description=_("Retry failed runs"), permissions=["view"])
    def retry(self, request, queryset):
        run_action(self, request, queryset,
                   lambda run: subscriptions.retry_run(run_id=run.pk, actor=request.user),
                   error_level=messages.WARNING)
