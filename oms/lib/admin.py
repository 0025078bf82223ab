"""Admin building blocks: read-only record admins and the runner for actions
that call one service per selected row (records change only through services)."""

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

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
