"""Copy the ComfyUI node pack / the AUTOMATIC1111-Forge extension into a tool's folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from ...errors import InputError

HERE = Path(__file__).resolve().parent
# Not "artlineage": ComfyUI registers a custom node folder in sys.modules under its folder name, which
# would shadow the artlineage package the pack imports.
COMFYUI_PACK = "artlineage_nodes"
A1111_EXTENSION = "sd-webui-artlineage"


def _copy(src: Path, dst: Path) -> Path:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dst


def install_comfyui(comfyui_dir: str | Path) -> Path:
    """``COMFYUI/custom_nodes/artlineage_nodes`` (replaced if there)."""
    root = Path(comfyui_dir)
    if not (root / "custom_nodes").is_dir():
        raise InputError(f"{root}: no custom_nodes/ folder here; give the ComfyUI folder")
    dst = _copy(HERE / "comfyui", root / "custom_nodes" / COMFYUI_PACK)
    (dst / "nodes.py").unlink()    # the pack's __init__ imports the installed artlineage's nodes
    return dst


def install_a1111(webui_dir: str | Path) -> Path:
    """``WEBUI/extensions/sd-webui-artlineage`` (replaced if there)."""
    root = Path(webui_dir)
    if not (root / "extensions").is_dir():
        raise InputError(f"{root}: no extensions/ folder here; give the stable-diffusion-webui (or Forge) folder")
    return _copy(HERE / "a1111", root / "extensions" / A1111_EXTENSION)
