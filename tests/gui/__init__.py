"""Tests of the GUI (Qt, offscreen): widgets, models and the workers that drive them."""
