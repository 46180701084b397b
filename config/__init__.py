"""Configuration: typed settings from REGISTRY_* environment variables (see settings.py)."""

from config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
