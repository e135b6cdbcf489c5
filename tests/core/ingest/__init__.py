"""Tests of ids_desktop.core.ingest: captures, flow tables, the export."""
