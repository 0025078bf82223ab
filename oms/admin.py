"""Admin for the project's own rows: outbox messages, API tokens, idempotency
records, users' preferences, used one-time form keys and exchange rates.

Axes registers its own admin (access attempts, lockouts, failures).
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from oms.api import check_token_scopes, revoke_api_tokens
from oms.lib import outbox
from oms.lib.admin import AuditedAdminMixin, ReadOnlyAdmin
from oms.lib.errors import ApplicationError
from oms.lib.preferences import save_language
from oms.models import (
    ApiScope,
    ApiToken,
    AuditEntry,
    ExchangeRate,
    FormSubmission,
    IdempotencyRecord,
    Notice,
    OutboxMessage,
    QueueItemHandled,
    UserPreference,
)


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(label=_("scopes"), choices=ApiScope.choices,
                                       widget=forms.CheckboxSelectMultiple, required=False)

    class Meta:
        model = ApiToken
        fields = ["name", "scopes", "carrier_code", "all_customers", "expires_at"]
        help_texts = {"carrier_code": _("Code of the one carrier whose shipments a token "
                                        "with the carrier events scope may update.")}

    def clean(self):
        cleaned = super().clean() or {}
        try:
            cleaned["scopes"] = check_token_scopes(cleaned.get("scopes") or [],
                                                   cleaned.get("carrier_code") or "")
        except ApplicationError as exc:
            for field, errors in exc.field_errors.items():
                self.add_error(field if field in self.fields else None, errors)
        return cleaned


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = ["name", "prefix", "scopes", "carrier_code", "all_customers", "expires_at",
                    "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "all_customers", "created_at"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["name", "prefix", "scopes", "carrier_code", "all_customers", "expires_at",
              "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        # The secret is generated and shown once by `manage.py create_api_token`.
        return False

    def has_delete_permission(self, request, obj=None):
        # Revoke instead: orders and idempotency records keep naming the token
        # (deleting it would rewrite every order it placed).
        return False

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request, queryset):
        count = revoke_api_tokens(token_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%(count)d token revoked.",
                                            "%(count)d tokens revoked.", count)
                          % {"count": count}, messages.SUCCESS)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["key", "token", "request_path", "response_status", "created_at",
                    "completed_at"]
    list_filter = ["response_status", "token", ("completed_at", admin.EmptyFieldListFilter)]
    search_fields = ["key"]
    readonly_fields = ["token", "key", "request_hash", "request_path", "response_status",
                       "response_body", "created_at", "completed_at"]
    list_select_related = ["token"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FormSubmission)
class FormSubmissionAdmin(ReadOnlyAdmin):
    """Used one-time keys of the back-office money forms: who submitted what, when."""

    list_display = ["created_at", "purpose", "result_id", "actor", "key"]
    list_filter = ["purpose", "created_at"]
    search_fields = ["=key", "=result_id", "actor__username"]
    readonly_fields = ["key", "purpose", "result_id", "actor", "created_at"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"
    show_full_result_count = False  # the table grows with every payment


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: rows change only through the runner and `outbox.retry_now`."""

    list_display = ["id", "handler", "status", "attempts", "created_at", "available_at",
                    "dispatched_at", "done_at", "dedup_key"]
    list_filter = ["status", "handler", "created_at"]
    search_fields = ["=id", "handler", "dedup_key", "last_error"]
    readonly_fields = ["handler", "payload", "dedup_key", "status", "attempts", "available_at",
                       "dispatched_at", "created_at", "done_at", "last_error"]
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    show_full_result_count = False  # the table grows; skip the extra COUNT(*)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Retry now (failed rows get fresh attempts)"),
                  permissions=["change"])
    def retry_now(self, request, queryset):
        count = outbox.retry_now(message_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%(count)d message rescheduled.",
                                            "%(count)d messages rescheduled.", count)
                          % {"count": count}, messages.SUCCESS)


@admin.register(UserPreference)
class UserPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "language", "notice_digest", "last_digest_at", "updated_at"]
    list_filter = ["language", "notice_digest"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]
    # Each user chooses their notice e-mail on their notice settings page.
    readonly_fields = ["notice_digest", "last_digest_at", "updated_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.base_fields["language"] = forms.ChoiceField(
            label=_("language"), choices=settings.LANGUAGES)
        return form

    def save_model(self, request, obj, form, change):
        save_language(user=obj.user, language=obj.language)


def currency_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in settings.CURRENCIES]


class ExchangeRateForm(forms.ModelForm):
    base = forms.TypedChoiceField(label=_("from currency"), choices=currency_choices)
    quote = forms.TypedChoiceField(label=_("to currency"), choices=currency_choices)

    class Meta:
        model = ExchangeRate
        fields = ["base", "quote", "rate", "valid_from"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Rates used to convert costs and credit exposure (oms.currencies):
    add a new row from a date rather than editing a past one, so figures
    already computed keep the rate they were computed with."""

    form = ExchangeRateForm
    list_display = ["base", "quote", "rate", "valid_from", "created_at"]
    list_filter = ["base", "quote", "valid_from"]
    search_fields = ["base", "quote"]
    date_hierarchy = "valid_from"
    readonly_fields = ["created_at"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit trail, as written by the services (also on the /audit/ page)."""

    list_display = ["at", "actor", "kind", "object_type", "object_label", "field", "before",
                    "after"]
    list_filter = ["kind", "object_type"]
    search_fields = ["object_label", "actor__username", "field"]
    list_select_related = ["actor"]
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "kind", "subject", "read_at", "emailed_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "subject"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(QueueItemHandled)
class QueueItemHandledAdmin(ReadOnlyAdmin):
    """Who marked which work queue row handled, when and why (written by
    oms.lib.workqueue.mark_handled only)."""

    list_display = ["source", "object_id", "version", "handled_by", "handled_at", "note"]
    list_filter = ["source", "handled_at"]
    search_fields = ["note", "handled_by__username", "=object_id"]
    list_select_related = ["handled_by"]
    date_hierarchy = "handled_at"
