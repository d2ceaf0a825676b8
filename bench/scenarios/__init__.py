"""One module per benchmark scenario; each returns `Figure`s for the report."""
