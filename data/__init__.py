"""Dataset loading, custom-data import and preprocessing. Never imports Streamlit."""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # see models/__init__.py
from data.core.errors import DataError, DatasetMissing
from data.core.root import cache_dir, data_root

__all__ = ["DataError", "DatasetMissing", "cache_dir", "data_root"]
