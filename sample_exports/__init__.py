"""Synthetic province generator and the committed sample inbox (`sample_exports/inbox/`)."""
