"""Admin building blocks: read-only record admins, the runner for actions
that call one service per selected row (records change only through
services), and the audit of configuration edited in the admin itself."""

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpRequest

from oms.lib import audit
from oms.lib.errors import ApplicationError


class ReadOnlyMixin:
    """No add, change or delete: the admin shows records, services write them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    can_delete = False


def run_action(modeladmin: admin.ModelAdmin, request: HttpRequest, objects: Iterable[Any],
               call: Callable[[Any], object], done: Callable[[int], str] | None = None, *,
               label: Callable[[Any], str] = str, error_level: int = messages.ERROR) -> int:
    """Call `call(obj)` for each object; an ApplicationError becomes a message
    naming the object, the others are counted in one `done(count)` message."""
    succeeded = 0
    for obj in objects:
        try:
            call(obj)
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{label(obj)}: {exc.message}", error_level)
        else:
            succeeded += 1
    if succeeded and done:
        modeladmin.message_user(request, done(succeeded), messages.SUCCESS)
    return succeeded


def _form_changes(form: Any, *, created: bool, exclude: Iterable[str] = ()
                  ) -> dict[str, tuple[Any, Any]]:
    """{field: (before, after)} of a saved model form: before from the form's
    initial values (what the page showed), after from the saved instance."""
    obj, skipped = form.instance, set(exclude)
    changes = {}
    for name in form.changed_data:
        if name in skipped:
            continue
        field = _model_field(obj, name)
        if field is None or not field.concrete or field.many_to_many:
            continue
        before = None if created else form.initial.get(name)
        after = field.value_from_object(obj)
        if field.is_relation:  # the ids the form holds, as records with their words
            before = _related(field, before)
            after = getattr(obj, name)
        changes[name] = (before, after)
    return changes


def _model_field(obj: Any, name: str) -> Any:
    """The model field behind a form field; None for a form-only field."""
    try:
        return obj._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _related(field: Any, pk: Any) -> Any:
    if pk in (None, ""):
        return None
    return field.related_model._default_manager.filter(pk=pk).first()


class AuditedAdminMixin:
    """Configuration edited here (VAT rates, discount codes, addresses...)
    lands in the audit trail like a service's change: each changed field with
    its value before and after, in the admin's own transaction. Fields a
    service audits itself go in `audit_exclude`."""

    audit_exclude: tuple[str, ...] = ()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        audit.record_changes(obj, actor=request.user,
                             kind=audit.Kind.CHANGED if change else audit.Kind.CREATED,
                             changes=_form_changes(form, created=not change,
                                                   exclude=self.audit_exclude))

    def delete_model(self, request, obj):
        _record_deleted(obj, actor=request.user)
        super().delete_model(request, obj)  # type: ignore[misc]

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            _record_deleted(obj, actor=request.user)
        super().delete_queryset(request, queryset)  # type: ignore[misc]

    def save_formset(self, request, form, formset, change):
        """Inline rows (a price list's prices) are filed under the parent."""
        parent = form.instance
        deleted = [row.instance for row in formset.deleted_forms if row.instance.pk]
        for obj in deleted:
            audit.record_changes(obj, on=parent, actor=request.user, kind=audit.Kind.DELETED,
                                 changes={"": (str(obj), None)})
        super().save_formset(request, form, formset, change)  # type: ignore[misc]
        for row in formset.forms:
            if row in formset.deleted_forms or not row.has_changed() or row.instance.pk is None:
                continue
            created = row.instance in formset.new_objects
            audit.record_changes(row.instance, on=parent, actor=request.user,
                                 kind=audit.Kind.CREATED if created else audit.Kind.CHANGED,
                                 changes=_form_changes(row, created=created))


def _record_deleted(obj: Any, *, actor: Any) -> None:
    audit.record_changes(obj, actor=actor, kind=audit.Kind.DELETED,
                         changes={"": (str(obj), None)})
