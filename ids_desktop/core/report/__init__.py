"""Reports built from an analysis: CSV for spreadsheets, JSON Lines for SIEMs, PDF for people."""
