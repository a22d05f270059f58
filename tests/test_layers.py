"""The import layers of the package, enforced: every import (module level or inside a function) goes
downward or stays inside its own part.

    core (errors, settings, vocabulary, _files, _db, _migrate, _aio, _lru, reporting)
      → signals → verdicts (+ _inspect: signals and verdicts of one file)
      → matching → registry | health (independent of each other) → detectors (learned estimates)
      → datasets (low-level I/O) → pipelines (scan, filter, audit, match runs) → interfaces (CLI, web)

``artlineage/__init__.py`` is the facade that re-exports the public names of every layer, so it is the
one module outside the layers; no module of the package may import it.
"""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "artlineage"

# Each layer may import itself and any layer listed before it.
LAYERS: list[tuple[str, ...]] = [
    ("artlineage.errors", "artlineage.settings", "artlineage._files", "artlineage._db", "artlineage._migrate",
     "artlineage.reporting", "artlineage._logging", "artlineage._aio", "artlineage._lru", "artlineage.vocabulary"),
    ("artlineage.signals",),
    ("artlineage.verdicts", "artlineage._inspect"),
    ("artlineage.matching",),
    ("artlineage.registry", "artlineage.health", "artlineage.stamping"),
    ("artlineage.detectors",),
    ("artlineage.datasets",),
    ("artlineage.pipelines",),
    ("artlineage.interfaces",),
]
# Parts of one layer that must not import each other.
INDEPENDENT = {frozenset({"artlineage.registry", "artlineage.health"})}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(module: str) -> tuple[int, str] | None:
    for level, parts in enumerate(LAYERS):
        for part in parts:
            if module == part or module.startswith(part + "."):
                return level, part
    return None


def _imports(path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import statement anywhere in the file."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module is None:  # ``from . import x``: x is a submodule (or a name of the package)
                found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
            else:
                found.append((target, node.lineno))
    return [(t, line) for t, line in found if t == "artlineage" or t.startswith("artlineage.")]


def _violations() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        if module == "artlineage":
            continue
        here = _part(module)
        if here is None:
            bad.append(f"{module}: not in any layer (add it to LAYERS)")
            continue
        for target, line in _imports(path):
            if target == "artlineage" or target.startswith("artlineage.__init__"):
                bad.append(f"{module}:{line} imports the facade 'artlineage'")
                continue
            there = _part(target)
            if there is None:
                bad.append(f"{module}:{line} imports {target}, which is in no layer")
            elif there[0] > here[0]:
                bad.append(f"{module}:{line} imports {target} (layer {there[0]}) from layer {here[0]}: upward")
            elif frozenset({there[1], here[1]}) in INDEPENDENT:
                bad.append(f"{module}:{line} imports {target}: {here[1]} and {there[1]} must stay independent")
    return bad


def test_every_import_runs_down_the_layers():
    assert _violations() == []


@pytest.mark.parametrize("source, expected", [
    ("from ..pipelines.scan import scan_directory\n", "upward"),
    ("def f():\n    from ..interfaces import cli\n", "upward"),
    ("import artlineage.datasets.manifest\n", "upward"),
    ("from ..health import report\n", "must stay independent"),
    ("from ..signals import Evidence\n", None),
])
def test_the_checker_sees_upward_imports_even_inside_functions(tmp_path, monkeypatch, source, expected):
    # A throwaway module placed in the registry layer of a copy of the tree's layout.
    fake = tmp_path / "artlineage" / "registry" / "probe.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(source)
    (tmp_path / "artlineage" / "__init__.py").write_text("")
    (fake.parent / "__init__.py").write_text("")
    monkeypatch.setitem(globals(), "SRC", tmp_path)
    monkeypatch.setitem(globals(), "PACKAGE", tmp_path / "artlineage")
    found = [v for v in _violations() if v.startswith("artlineage.registry.probe")]
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0], found
