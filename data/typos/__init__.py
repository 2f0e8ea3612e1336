"""Typos: words and real misspellings (spelling.py), the typo noise model (noise.py) and the
candidate index and features TypoNet reads (features.py)."""
