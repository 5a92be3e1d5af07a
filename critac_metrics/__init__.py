"""CRI-TAC impact metrics: the DuckDB store, validated import, and every metric. No Streamlit here."""

from .filters import Filters

__all__ = ["Filters"]
