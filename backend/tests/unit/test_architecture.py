"""The layers import only downward (docs/architecture.md): walked from the source, not trusted."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"

# layer → the layers it may import (besides itself). `main.py` and `cli.py` compose everything.
ALLOWED: dict[str, set[str]] = {
    "api": {"services", "schemas", "domain", "core", "observability"},
    "console": {"api", "services", "schemas", "domain", "core"},  # the web console: an HTTP surface beside api/
    "schemas": {"domain", "core"},
    "services": {"repositories", "domain", "core"},
    "repositories": {"models", "domain", "core"},
    "models": {"core", "domain"},
    "core": {"domain"},
    "observability": {"core", "domain"},  # request log and metrics: pure ASGI and prometheus-client
    "domain": set(),
}
COMPOSITION_ROOTS = {"main", "cli", "entry", "__init__"}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "app" else None


def _imports(path: Path, root: Path = APP) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    package = ".".join(("app", *path.relative_to(root).with_suffix("").parts[:-1]))
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            if module in ("app",):  # `from app import services`
                found += [(node.lineno, f"app.{alias.name}") for alias in node.names]
    return found


def _sources() -> list[Path]:
    return sorted(APP.rglob("*.py"))


def test_the_walk_sees_the_whole_package() -> None:
    layers = {path.relative_to(APP).parts[0] for path in _sources() if len(path.relative_to(APP).parts) > 1}
    assert layers == set(ALLOWED)


def _violations(path: Path, root: Path = APP) -> list[str]:
    parts = path.relative_to(root).parts
    if len(parts) == 1:
        return [] if path.stem in COMPOSITION_ROOTS else [f"{path.name}: a module outside every layer"]
    source = parts[0]
    wrong = []
    for line, module in _imports(path, root):
        top, target = module.split(".")[0], _layer(module)
        if top == "app" and target is not None and target != source and target not in ALLOWED[source]:
            wrong.append(f"{path.name}:{line} imports {module} ({source} → {target})")
        elif source == "domain" and top != "app" and top not in sys.stdlib_module_names:
            wrong.append(f"{path.name}:{line} imports {module} (domain → third party)")
    return wrong


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(APP)))
def test_imports_point_only_downward(path: Path) -> None:
    assert _violations(path) == []


def test_the_check_catches_upward_and_foreign_imports(tmp_path: Path) -> None:
    """The walker is not vacuous: an absolute and a relative upward import, and a third-party
    import in the domain, are all seen."""
    (tmp_path / "schemas").mkdir()
    (tmp_path / "domain").mkdir()
    bad = tmp_path / "schemas" / "bad.py"
    bad.write_text("from app.repositories.users import get_user_state\nfrom ..services import auth\n")
    assert len(_violations(bad, tmp_path)) == 2
    heavy = tmp_path / "domain" / "heavy.py"
    heavy.write_text("import sqlalchemy\nfrom app.domain.vocabulary import Role\n")
    assert _violations(heavy, tmp_path) == ["heavy.py:1 imports sqlalchemy (domain → third party)"]


MAX_MODULE_LINES = 400  # a module past this has two concerns in it: split it along the seam first


def test_no_module_is_past_the_size_where_it_holds_two_things() -> None:
    sizes = {path.relative_to(APP).as_posix(): len(path.read_text().splitlines()) for path in _sources()}
    too_long = {name: lines for name, lines in sizes.items() if lines > MAX_MODULE_LINES}
    assert not too_long, f"split these along their seams (docs/architecture.md): {too_long}"
