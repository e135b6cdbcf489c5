"""Qt layer: windows, models and workers over the headless core."""
