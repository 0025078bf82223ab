"""Countries and VAT ids as the EU VAT rules need them: which countries are
member states, whether a country code exists, and whether a VAT id is
well-formed for its member state (the format only: VIES says whether it is
registered, which no placement waits for).

Pure data and functions; imports no app.
"""

from __future__ import annotations

import re
from functools import cache

from babel import Locale

# The 27 member states (ISO 3166-1 alpha-2). Greece's VAT ids start with EL.
EU_MEMBER_STATES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})

# VAT id prefix -> country, where they differ.
_PREFIX_COUNTRY = {"EL": "GR"}
_COUNTRY_PREFIX = {"GR": "EL"}

# The body after the two-letter prefix, per member state (the Commission's
# VIES formats).
VAT_ID_FORMATS: dict[str, str] = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "GR": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-W][A-IW]?|\d[A-Z+*]\d{5}[A-W]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"[1-9]\d{1,9}",
    "SE": r"\d{10}01",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
}
_COMPILED = {country: re.compile(rf"(?:{body})") for country, body in VAT_ID_FORMATS.items()}
# A well-formed VAT id as written without separators, or none: the API's schema.
VAT_ID_PATTERN = "^(|{})$".format("|".join(
    f"{_COUNTRY_PREFIX.get(country, country)}(?:{body})"
    for country, body in sorted(VAT_ID_FORMATS.items())))
_SEPARATORS = re.compile(r"[\s.\-/]")

# Codes babel lists that are not countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ"})


@cache
def known_countries() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 code (from CLDR, shipped with babel)."""
    territories = Locale("en").territories
    return frozenset(code for code in territories if isinstance(code, str)
                     and len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES)


def is_known_country(code: str) -> bool:
    return code.upper() in known_countries()


def is_member_state(code: str) -> bool:
    return code.upper() in EU_MEMBER_STATES


def normalize_vat_id(value: str) -> str:
    """Upper case, without spaces, dots, dashes or slashes."""
    return _SEPARATORS.sub("", value or "").upper()


def vat_id_country(vat_id: str) -> str | None:
    """The member state of a well-formed VAT id, else None."""
    vat_id = normalize_vat_id(vat_id)
    prefix, body = vat_id[:2], vat_id[2:]
    country = _PREFIX_COUNTRY.get(prefix, prefix)
    if country == "GR" and prefix != "EL":
        return None
    pattern = _COMPILED.get(country)
    if pattern is None or not pattern.fullmatch(body):
        return None
    return country


def is_well_formed_vat_id(vat_id: str) -> bool:
    return vat_id_country(vat_id) is not None


def vat_id_prefix(country: str) -> str:
    return _COUNTRY_PREFIX.get(country, country)
