"""The model service: a FastAPI app built from the model bundle's feature schema (`models/`)."""

from __future__ import annotations

from .app import create_app
from .bundle import ModelBundle, ModelLoadError, load_bundle, load_metadata
from .server import main
from .settings import ServeSettings, get_settings

__all__ = [
    "ModelBundle",
    "ModelLoadError",
    "ServeSettings",
    "create_app",
    "get_settings",
    "load_bundle",
    "load_metadata",
    "main",
]
