"""Headless core: ingest, model, explain and report. Never imports Qt or pyqtgraph."""
