"""Self-contained HTML reports of runs and run comparisons (drawn with plotly, imported only when one is written)."""

from __future__ import annotations

from zenml.history.reports.compare_page import write_compare_page
from zenml.history.reports.page import output_path
from zenml.history.reports.run_report import write_run_report

__all__ = ["output_path", "write_compare_page", "write_run_report"]
