"""Views read through selectors; a selector raises `DoesNotExist` for an
unknown id and the view answers 404 through `get_or_404`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404

T = TypeVar("T")


def get_or_404(select: Callable[..., T], /, **kwargs: Any) -> T:
    """`select(**kwargs)`, or Http404 when it finds no row."""
    try:
        return select(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
