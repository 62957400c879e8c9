"""The console's shipped files, checked without a browser: every module it imports is shipped,
and no code path can write markup, run strings as code, or set inline styles (the CSP forbids
inline style and script; `h()` puts text in as text nodes)."""

from __future__ import annotations

import re

import pytest

from app.console.assets import CONTENT_SECURITY_POLICY, assets

SCRIPTS = sorted(name for name in assets() if name.endswith(".js"))
IMPORT = re.compile(r"""^import .*? from "(\.{1,2}/[^"]+)";$""", re.M)


def _resolve(importer: str, target: str) -> str:
    parts = importer.split("/")[:-1]
    for piece in target.split("/"):
        if piece == "..":
            parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


def test_the_page_loads_only_shipped_files():
    html = assets()["index.html"].body.decode()
    for ref in re.findall(r'(?:src|href)="(/[^"]+)"', html):
        assert ref.startswith("/console/static/"), ref
        assert ref.removeprefix("/console/static/") in assets(), ref
    assert "<script>" not in html and "style=" not in html and "<style" not in html


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_import_is_shipped(name):
    source = assets()[name].body.decode()
    for target in IMPORT.findall(source):
        assert _resolve(name, target) in assets(), f"{name} imports {target}"


@pytest.mark.parametrize("name", SCRIPTS)
def test_no_markup_from_strings_no_eval_no_inline_style(name):
    source = assets()[name].body.decode()
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert forbidden not in source, f"{name} uses {forbidden}"
    assert not re.search(r"""setAttribute\(\s*["']style""", source), name
    assert not re.search(r"""\bstyle\s*:""", source), name  # h(tag, {style: …}) would set an attribute
    assert "localStorage" not in source and "sessionStorage" not in source, name  # tokens in memory only


def test_the_policy_allows_nothing_inline_or_foreign():
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    for directive in ("script-src", "style-src", "connect-src"):
        assert directives[directive] == "'self'", directive
    assert directives["frame-ancestors"] == "'none'"
