"""AI-chip capacity planner: Excel workbook in, Pyomo/HiGHS plan out."""

__version__ = "0.1.0"
