"""Workbench: qualitative coding for migration and integration policy research."""

__version__ = "0.1.0"
