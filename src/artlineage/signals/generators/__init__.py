"""Readers for the metadata that image-generation tools write (one module per tool)."""
