"""Every ```python block of README.md runs, in a temporary folder holding the bundled example gallery
(``render.png`` is its AUTOMATIC1111 image, ``dataset/`` the whole gallery). A line ``expr  # value``
whose comment is a Python value (no ``...``) is also checked: ``expr`` must equal it."""

import ast
import re
import shutil
from pathlib import Path

import pytest

import artlineage

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
GALLERY = ROOT / "examples" / "gallery"


def _blocks() -> list[str]:
    return BLOCK.findall((ROOT / "README.md").read_text())


def _claims(code: str) -> list[tuple[str, str]]:
    """(expression, claimed value) of each ``expr  # value`` line that can be checked."""
    out = []
    for line in code.splitlines():
        if "  #" not in line or line.startswith((" ", "\t")):
            continue
        expr, _, comment = line.partition("  #")
        comment = comment.strip()
        if "..." in comment:
            continue
        try:
            ast.parse(expr.strip(), mode="eval")
            ast.parse(comment, mode="eval")
        except SyntaxError:
            continue
        out.append((expr.strip(), comment))
    return out


def test_the_readme_has_python_blocks():
    # every fence that opens a Python block is run: none is skipped by the block pattern
    fences = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("```py")]
    assert len(_blocks()) == len(fences) >= 1


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_readme_python_block_runs_and_its_comments_hold(index, tmp_path, monkeypatch, capsys):
    code = _blocks()[index]
    shutil.copy(GALLERY / "a1111_txt2img.png", tmp_path / "render.png")
    shutil.copytree(GALLERY, tmp_path / "dataset")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    exec(compile(code, f"README.md block {index}", "exec"), namespace)
    values = {name: getattr(artlineage, name) for name in artlineage.__all__}
    for expr, claimed in _claims(code):
        assert eval(expr, namespace) == eval(claimed, {**values, **namespace}), f"README: {expr}  # {claimed}"
