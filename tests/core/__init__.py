"""Tests of the core, laid out like ids_desktop/core."""
