"""The one validation seam: typed service inputs and their field errors.

A write service takes one `Input` (a frozen pydantic model). The back-office
form, the JSON API schema and the CSV import row all build it; `Input.parse`
turns a refusal into `ApplicationError(field_errors=...)` keyed by the input's
own paths (`lines.0.sku`, `shipping_address.city`), with our own translated
words. The JSON API reports ninja's schema errors through `field_errors` too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Self

import annotated_types
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict
from pydantic import ValidationError as PydanticValidationError

from oms.lib.errors import ApplicationError

# Text without NUL characters, which PostgreSQL cannot store or compare: a
# string field or parameter that reaches the database carries this pattern,
# so a NUL is refused (422) and the OpenAPI schema says so.
NO_NUL = r"^[^\x00]*$"
# The same for required text: something besides white space.
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"

# Where ninja puts the request part and the parameter name in front of the path.
_REQUEST_PARTS = {"body", "query", "path", "header", "cookie", "form", "file"}


def _clean(value: Any, *, collapse: bool) -> Any:
    """None is blank; text is stripped, one-line text has whitespace runs collapsed."""
    if not isinstance(value, str):
        return "" if value is None else value
    return " ".join(value.split()) if collapse else value.strip()


@dataclass(frozen=True)
class Text(annotated_types.GroupedMetadata):
    """Text up to `max_length` characters, stripped; on one line unless `multiline`.
    Used as `Annotated[str, Text(200)]`."""

    max_length: int | None
    required: bool = False
    multiline: bool = False

    def __iter__(self) -> Iterator[object]:
        # First: in the schema, and checked on the cleaned text.
        yield Field(pattern=NOT_BLANK if self.required else NO_NUL)
        yield BeforeValidator(partial(_clean, collapse=not self.multiline))
        yield Strict()
        yield annotated_types.MinLen(1 if self.required else 0)
        if self.max_length is not None:
            yield annotated_types.MaxLen(self.max_length)


LongText = partial(Text, multiline=True)  # notes and reasons keep their line breaks


def _message(error: Mapping[str, Any]) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "value_error":  # our validators' own words, without "Value error, "
        return str(ctx.get("error", error.get("msg", "")))
    if kind in {"extra_forbidden", "unexpected_keyword_argument"}:
        return _("Unknown field; prices and totals are computed by the server.")
    if kind == "missing" or (kind in {"string_too_short", "too_short"}
                             and ctx.get("min_length") == 1):
        return _("This field is required.")
    if kind in {"string_too_long", "too_long"}:
        return _("At most %(n)d characters.") % {"n": ctx["max_length"]}
    if kind == "string_type":
        return _("Enter text.")
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in {NO_NUL, NOT_BLANK}:
        if "\x00" in str(error.get("input", "")):
            return _("Remove the NUL characters.")
        return _("This field is required.")
    if kind == "string_unicode":
        return _("Enter valid Unicode text.")
    if kind in {"literal_error", "enum"}:
        return _("Choose one of: %(choices)s.") % {
            "choices": ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))}
    return str(error.get("msg", ""))


def _path(loc: Iterable[Any]) -> str:
    # ("body", "payload", "lines", 0, "quantity") -> "lines.0.quantity"
    parts = [str(part) for part in loc]
    if parts and parts[0] in _REQUEST_PARTS:
        parts = parts[2:] if len(parts) > 1 and parts[1] == "payload" else parts[1:]
    return ".".join(parts) or "__all__"


def field_errors(errors: Iterable[Mapping[str, Any]], *, prefix: str = ""
                 ) -> dict[str, list[str]]:
    """Pydantic (or ninja) errors as `{prefix + path: [translated messages]}`."""
    result: dict[str, list[str]] = {}
    for error in errors:
        path = prefix + _path(error.get("loc", ()))
        result.setdefault(path.removesuffix(".__all__"), []).append(_message(error))
    return result


def errors_onto_form(form: Any, error: ApplicationError, *, prefix: str = "",
                     names: Mapping[str, str] | None = None, summary: bool = True) -> None:
    """Show a refusal's field errors on the form fields of the same name
    (`prefix` removed, or renamed by `names`), the rest on top; with no field
    errors, its message on top unless `summary` is False (the page shows it)."""
    for path, messages in error.field_errors.items():
        name = (names or {}).get(path, path.removeprefix(prefix))
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
    if summary and not error.field_errors:
        form.add_error(None, error.message)


class Input(BaseModel):
    """A service's typed input: immutable, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The refusal's summary when `parse` fails.
    error_message: ClassVar[Any] = gettext_lazy("Please correct the errors below.")

    @classmethod
    def parse(cls, data: Mapping[str, Any], *, prefix: str = "") -> Self:
        """Validate `data` once, or raise ApplicationError with field errors
        (keyed `prefix + path`, for an input that is part of a larger one)."""
        try:
            return cls.model_validate(data)
        except PydanticValidationError as exc:
            raise ApplicationError(str(cls.error_message), field_errors=field_errors(
                exc.errors(), prefix=prefix)) from None
