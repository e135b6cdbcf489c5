"""Tests of the traffic lab (scripts/lab): its plans without root, its runs where it can run."""
