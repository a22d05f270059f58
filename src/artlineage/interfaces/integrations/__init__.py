"""artlineage inside the tools people generate with: a ComfyUI custom node pack (``comfyui/``) and an
AUTOMATIC1111 / Forge web UI extension (``a1111/``), both thin layers over
:class:`artlineage.stamping.GenerationService`. ``artlineage integrations install-comfyui`` /
``install-a1111`` copy them into place (see :mod:`.install`)."""
