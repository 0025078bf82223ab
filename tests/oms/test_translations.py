"""Every language the product offers is complete, and no user-facing text
escapes translation: a catalogue with an untranslated or fuzzy entry fails,
and so does a template or a Python message written without gettext."""

import ast
import io
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.template.base import Lexer, TokenType
from django.utils import translation
from django.utils.translation import gettext, ngettext
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]
APPS = ["oms", "customers", "inventory", "orders", "billing", "fulfillment", "reporting"]
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]

# Names, not words: the product's name, bank identifiers and document-number prefixes.
NOT_WORDS = {"OMS", "IBAN", "BIC", "SO"}
WORD = re.compile(r"[A-Za-zÀ-ÿ]{2,}")
TAG = re.compile(r"<[^>]*>", re.S)
HIDDEN = re.compile(r"<(script|style)\b.*?</\1>|\shx-on[^=]*=\"[^\"]*\"", re.S | re.I)
READ_ATTRIBUTES = re.compile(r'\b(?:title|placeholder|aria-label|alt)="([^"]*)"')
HOLE = "\x00"  # where a variable or a tag's output goes


def _words(text: str) -> list[str]:
    return [word for word in WORD.findall(text.replace(HOLE, " ")) if word not in NOT_WORDS]


def _template_text_outside_translation(source: str) -> str:
    """The template with every {% translate %}, {% blocktranslate %}, comment and
    variable taken out: what is left is literal text."""
    parts, inside, skipping = [], 0, 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = (token.contents.split() or [""])[0]
            inside += {"blocktranslate": 1, "endblocktranslate": -1}.get(name, 0)
            skipping += {"comment": 1, "endcomment": -1, "verbatim": 1,
                         "endverbatim": -1}.get(name, 0)
            parts.append(HOLE)
        elif not (inside or skipping):
            parts.append(token.contents if token.token_type == TokenType.TEXT else HOLE)
    return HIDDEN.sub(" ", "".join(parts))


def untranslated_template_text(source: str) -> list[str]:
    text = _template_text_outside_translation(source)
    found = [value for value in READ_ATTRIBUTES.findall(text) if _words(value)]
    visible = re.sub(r"&#?\w+;", " ", TAG.sub(" ", text))
    return found + [" ".join(line.replace(HOLE, " ").split()) for line in visible.splitlines()
                    if _words(line)]


MESSAGE_CALLS = {"ApplicationError", "ValidationError", "PermissionDenied", "Http404",
                 "success", "error", "warning", "info", "add_message"}
LABEL_KEYWORDS = {"verbose_name", "verbose_name_plural", "label", "help_text", "empty_label",
                  "short_description", "subject"}
LOGGERS = {"logger", "log", "_log", "_logger", "logging"}


def _is_literal_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(_words(node.value)))


def untranslated_python_messages(source: str) -> list[str]:
    """Messages, labels and errors given as bare string literals (log lines and
    the API's schema descriptions, written for developers, are not)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        receiver = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
        if name in MESSAGE_CALLS and receiver not in LOGGERS:
            found += [f"{node.lineno}: {ast.unparse(argument)[:60]}"
                      for argument in node.args if _is_literal_text(argument)]
        found += [f"{node.lineno}: {keyword.arg}={ast.unparse(keyword.value)[:60]}"
                  for keyword in node.keywords
                  if keyword.arg in LABEL_KEYWORDS and _is_literal_text(keyword.value)]
    return found


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_catalogue_entry_is_translated_and_none_is_fuzzy(language):
    po = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
    with po.open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    incomplete = [message.id for message in catalogue if message.id and (
        "fuzzy" in message.flags or not (all(message.string) if isinstance(
            message.string, tuple) else message.string))]
    assert incomplete == []
    plurals = [message for message in catalogue if isinstance(message.string, tuple)]
    assert all(len(message.string) == catalogue.num_plurals for message in plurals)


def test_no_template_holds_text_outside_a_translation_tag():
    found = {str(path.relative_to(ROOT)): untranslated_template_text(path.read_text())
             for path in sorted((ROOT / "templates").rglob("*"))
             if path.suffix in (".html", ".txt")}
    assert {path: lines for path, lines in found.items() if lines} == {}


def test_no_python_message_or_label_is_left_untranslated():
    found = {str(path.relative_to(ROOT)): untranslated_python_messages(path.read_text())
             for app in APPS for path in sorted((ROOT / app).rglob("*.py"))
             if "migrations" not in path.parts}
    assert {path: lines for path, lines in found.items() if lines} == {}


def test_the_checks_catch_what_they_are_for():
    assert untranslated_template_text('<p title="Open it">{% translate "Hi" %}</p>') == ["Open it"]
    assert untranslated_template_text("<td>{{ weight }} kg</td>") == ["kg"]
    assert untranslated_template_text('{% blocktranslate %}{{ w }} kg{% endblocktranslate %}') == []
    assert untranslated_template_text('<a href="{% url "x" %}">{{ name }}</a> · OMS') == []
    assert untranslated_python_messages('messages.success(request, "Saved.")') == [
        "1: 'Saved.'"]
    assert untranslated_python_messages('messages.success(request, _("Saved."))') == []
    assert untranslated_python_messages('logger.info("done %s", x)') == []
    assert untranslated_python_messages('models.CharField(verbose_name="name")') == [
        "1: verbose_name='name'"]


@pytest.mark.parametrize(("language", "counts"), [
    ("ro", {1: 0, 2: 1, 19: 1, 20: 2, 101: 1}),  # one, few (2-19, x01-x19), "de" form (20+)
    ("ru", {1: 0, 21: 0, 2: 1, 24: 1, 5: 2, 11: 2, 111: 2}),  # one, few, many
])
def test_plural_forms_follow_each_languages_grammar(language, counts):
    with translation.override(language):
        forms = {n: ngettext("%(n)s invoice", "%(n)s invoices", n) % {"n": n} for n in counts}
    words = {n: text.split(" ", 1)[1] for n, text in forms.items()}
    by_form: dict[int, set[str]] = {}
    for n, form in counts.items():
        by_form.setdefault(form, set()).add(words[n])
    assert all(len(found) == 1 for found in by_form.values())  # one word per grammatical form
    assert len({next(iter(found)) for found in by_form.values()}) == len(by_form)


@pytest.mark.django_db
@pytest.mark.parametrize("language", TRANSLATED)
def test_a_customer_gets_the_invoice_pdf_in_their_own_language(
        language, django_capture_on_commit_callbacks):
    from billing.models import Invoice
    from billing.services import invoice_pdf_bytes
    from tests.billing.invoicing_support import reserved_order, ship, terms_customer

    order = reserved_order(on_terms=True, customer=terms_customer(preferred_language=language))
    with django_capture_on_commit_callbacks(execute=True):  # billing invoices on shipment
        ship(order)
    invoice = Invoice.objects.get(order=order)
    pdf = PdfReader(io.BytesIO(invoice_pdf_bytes(invoice)))
    text = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())

    with translation.override(language):
        heading, due = gettext("Invoice"), gettext("Due date")
    assert heading != "Invoice" and due != "Due date"  # the catalogue speaks the language
    assert f"{heading} {invoice.number}" in text
    assert due.upper() in text.upper()  # labels are printed in capitals
