"""Admin for the project's own rows: API tokens and idempotency records."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from oms.api import revoke_api_tokens
from oms.models import ApiToken, IdempotencyRecord


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        # The secret is generated and shown once by `manage.py create_api_token`.
        return False

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request, queryset):
        count = revoke_api_tokens(token_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%(count)d token revoked.",
                                            "%(count)d tokens revoked.", count)
                          % {"count": count}, messages.SUCCESS)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["key", "token", "request_path", "response_status", "created_at"]
    list_filter = ["response_status", "token"]
    search_fields = ["key"]
    readonly_fields = ["token", "key", "request_hash", "request_path", "response_status",
                       "response_body", "created_at"]
    list_select_related = ["token"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
