import io

import pytest
from pypdf import PdfReader

from oms.lib.pdf import BASE_URL, StaticOnlyFetcher, html_to_pdf


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_renders_text_that_a_pdf_reader_can_extract():
    pdf = html_to_pdf("<h1>Invoice INV-2026-000001</h1><p>Total 12.00</p>")
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    assert "INV-2026-000001" in text
    assert "Total 12.00" in text


def test_serves_the_apps_own_static_files():
    response = StaticOnlyFetcher().fetch(BASE_URL + "static/css/app.css")
    assert b"--brand" in response.read()


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "https://example.com/static/css/app.css",
    "http://127.0.0.1:8000/static/css/app.css",
    BASE_URL + "static/../../../etc/passwd",
    BASE_URL + "media/secret.pdf",
])
def test_refuses_every_other_url(url):
    with pytest.raises(ValueError):
        StaticOnlyFetcher().fetch(url)


def test_a_template_referencing_outside_resources_still_renders_without_them(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    html = (f'<link rel="stylesheet" href="file://{secret}">'
            f'<img src="file://{secret}"><img src="https://example.com/x.png">'
            f'<object data="file://{secret}"></object><p>Visible</p>')
    text = _text(html_to_pdf(html))
    assert "Visible" in text
    assert "TOP-SECRET-CONTENT" not in text


def test_renders_in_one_thread_share_a_font_configuration_and_other_threads_get_their_own():
    import threading

    from oms.lib.pdf import _font_config

    first = html_to_pdf("<p>First INV-1</p>")
    shared = _font_config()
    second = html_to_pdf("<p>Second INV-2</p>")
    assert _font_config() is shared
    assert "First INV-1" in _text(first) and "Second INV-2" in _text(second)

    other = []
    thread = threading.Thread(target=lambda: other.append(_font_config()))
    thread.start()
    thread.join()
    assert other[0] is not shared
