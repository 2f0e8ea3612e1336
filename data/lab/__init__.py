"""The Lab's 2-D data sets and their CSV import (toy.py)."""
