"""Hostile XML against every place m2pos parses XML: the OnSite client's responses (``parse_xml`` and
the error-message reader behind ``http_error``) and the OnSite sandbox's request bodies.

Entity expansion ("billion laughs"), external entities (XXE) and external DTDs must be refused with
a clear error before anything is expanded or read.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from m2pos.pos.lightspeed_onsite._client import OnSiteCallError, http_error, parse_xml
from m2pos.sandbox.onsite._errors import OnSiteError
from m2pos.sandbox.onsite._xml import parse_body

SRC = Path(__file__).resolve().parents[1] / "src" / "m2pos"
PASSWD = Path("/etc/passwd")
PASSWD_LINE = PASSWD.read_text().splitlines()[0] if PASSWD.exists() else "root:x:0:0"

LEVELS = "".join(f'<!ENTITY lol{i} "{"".join(f"&lol{i - 1};" for _ in range(10))}">' for i in range(1, 10))
BILLION_LAUGHS = (
    f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{LEVELS}]>'
    "<product><code>&lol9;</code></product>"
).encode()
SMALL_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;">]>'
    b"<product><code>&b;</code></product>"
)
QUADRATIC = (
    f'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "{"x" * 50_000}">]>'
    f"<product><code>{'&a;' * 5_000}</code></product>"
).encode()
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<product><code>&x;</code></product>"
)
PARAMETER_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY % ext SYSTEM "file:///etc/passwd"> %ext;]>'
    b"<product><code>x</code></product>"
)
EXTERNAL_DTD = b'<?xml version="1.0"?><!DOCTYPE product SYSTEM "http://127.0.0.1:9/evil.dtd"><product/>'

HOSTILE = {
    "billion-laughs": BILLION_LAUGHS,
    "small-laughs": SMALL_LAUGHS,
    "quadratic-blowup": QUADRATIC,
    "external-entity": XXE,
    "parameter-entity": PARAMETER_ENTITY,
    "external-dtd": EXTERNAL_DTD,
}


def test_the_payloads_are_real_attacks_for_a_naive_parser() -> None:
    """The standard library expands an internal entity: the refusals below are the defence, not luck."""
    assert ET.fromstring(SMALL_LAUGHS)  # noqa: S314 - on purpose.findtext("code") == "lol" * 4


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_onsite_client_refuses_hostile_xml(body: bytes) -> None:
    started = time.monotonic()
    with pytest.raises(OnSiteCallError) as refused:
        parse_xml(body, "a product search")
    assert time.monotonic() - started < 2, "the parser spent its time expanding"
    message = refused.value.message
    assert "declares a DTD or entities" in message and "refuses such XML" in message
    assert not refused.value.retryable  # a hostile server is not a passing glitch
    assert "lol" * 4 not in message and PASSWD_LINE not in message


def test_the_onsite_client_still_reads_plain_xml() -> None:
    root = parse_xml(b'<?xml version="1.0"?><product id="1"><code>MUG-001</code></product>', "a product")
    assert root.findtext("code") == "MUG-001"


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_an_error_response_with_hostile_xml_is_not_expanded(body: bytes) -> None:
    """The message of a refused call is read from the server's XML: it must not expand it either."""
    request = httpx.Request("GET", "https://pos.example/api/Product/")
    error = http_error(httpx.Response(400, content=body, request=request))
    assert PASSWD_LINE not in error.message
    assert "lol" * 4 not in error.message
    assert len(error.message) < 1000  # the server's text is quoted, cut short, never expanded


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_onsite_sandbox_refuses_hostile_request_bodies(body: bytes) -> None:
    started = time.monotonic()
    with pytest.raises(OnSiteError) as refused:
        parse_body(body, "product")
    assert time.monotonic() - started < 2
    text = str(getattr(refused.value, "detail", "")) + str(refused.value) + repr(refused.value.__dict__)
    assert "DTDs and entities are not allowed" in text, text
    assert PASSWD_LINE not in text and "lol" * 4 not in text


def test_no_module_parses_xml_without_defusedxml() -> None:
    """A new parser added later with the standard library (or lxml) is caught here."""
    unsafe = re.compile(
        r"\b(ET|ElementTree|etree|minidom|pulldom|expat|sax)\.(fromstring|parse|XML|XMLParser|iterparse|"
        r"parseString|make_parser|ParserCreate|XMLPullParser)\b|^\s*(from|import) (lxml|xml\.dom|xml\.sax)",
        re.M,
    )
    found = [
        f"{path.relative_to(SRC)}: {match.group(0).strip()}"
        for path in SRC.rglob("*.py")
        for match in unsafe.finditer(path.read_text())
    ]
    assert found == []
    # The check itself sees such a line.
    assert unsafe.search("root = ET.fromstring(body)")
