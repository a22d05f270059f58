"""ComfyUI custom node pack: "artlineage: check prompt" and "artlineage: save stamped image".

ComfyUI imports each folder of ``custom_nodes/`` and reads NODE_CLASS_MAPPINGS from it; this folder
is copied there by ``artlineage integrations install-comfyui COMFYUI_DIR`` and needs artlineage
installed in ComfyUI's Python environment.
"""

from artlineage.interfaces.integrations.comfyui.nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
