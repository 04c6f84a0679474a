"""The public names: one list, importable from the package root, enough for the example.

``_EXPORTS`` in ``__init__`` is the one list; these tests keep everything
else (``__all__``, the imports type checkers read, the design's fixed names,
what the bundled example imports) agreeing with it.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import pytest_stexcel_privacy
from pytest_stexcel_privacy import _EXPORTS, strategies

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = pytest_stexcel_privacy.__name__
INIT = Path(pytest_stexcel_privacy.__file__)
EXAMPLE = ROOT / "examples" / "jewelry_erp"

# The contract DESIGN.md fixes, and the types of the fixtures users' own tests take.
CONTRACT = {
    "PrivacyAdapter",
    "PrivacySuite",
    "Person",
    "RegistrationRejected",
    "SQLStore",
    "RedisStore",
    "FileStore",
    "S3Store",
    "Retention",
}
FIXTURE_TYPES = {"PrivacyHarness", "MailSink", "ProcessorSink", "EgressGuard"}

# Where users may import from, and what each offers.
PUBLIC_MODULES = {
    PACKAGE: set(pytest_stexcel_privacy.__all__),
    strategies.__name__: set(strategies.__all__),
}


def test_all_is_the_export_list() -> None:
    assert pytest_stexcel_privacy.__all__ == sorted(_EXPORTS)


@pytest.mark.parametrize("name", sorted(_EXPORTS))
def test_each_public_name_is_the_object_its_module_defines(name: str) -> None:
    module = importlib.import_module(f"{PACKAGE}.{_EXPORTS[name]}")
    exported = getattr(pytest_stexcel_privacy, name)
    assert exported is getattr(module, name)
    # defined there, or in a module of that package: not merely imported into it
    defined_in = exported.__module__
    assert defined_in == module.__name__ or defined_in.startswith(f"{module.__name__}."), defined_in


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Nothing'"):
        pytest_stexcel_privacy.Nothing  # noqa: B018


def type_checking_imports() -> dict[str, str]:
    """What the ``if TYPE_CHECKING:`` block of ``__init__`` imports: name -> module."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    (block,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    ]
    imported: dict[str, str] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom), ast.unparse(node)
        assert node.level == 1, ast.unparse(node)
        for alias in node.names:
            # "import X as X" is how a typed package says X is re-exported
            assert alias.asname == alias.name, ast.unparse(node)
            assert alias.name not in imported, f"{alias.name} imported twice"
            imported[alias.name] = str(node.module)
    return imported


def test_type_checkers_see_exactly_the_export_list() -> None:
    assert type_checking_imports() == _EXPORTS


def test_the_designs_names_and_the_fixture_types_are_exported() -> None:
    assert (CONTRACT | FIXTURE_TYPES) - set(_EXPORTS) == set()


def imports_of_the_plugin(path: Path) -> list[tuple[str, str]]:
    """Every (module, name) of this package that a source file imports."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == PACKAGE:
                found.extend((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((a.name, "") for a in node.names if a.name.split(".")[0] == PACKAGE)
    return found


def test_the_example_imports_only_public_names() -> None:
    sources = sorted(EXAMPLE.rglob("*.py"))
    assert {"conftest.py", "privacy_adapter.py", "test_privacy.py"} <= {p.name for p in sources}
    imported = {
        (path.relative_to(EXAMPLE).as_posix(), module, name)
        for path in sources
        for module, name in imports_of_the_plugin(path)
    }
    assert imported, "the example no longer uses the plugin?"
    private = {
        (path, module, name)
        for path, module, name in imported
        if module not in PUBLIC_MODULES or (name and name not in PUBLIC_MODULES[module])
    }
    assert private == set()
