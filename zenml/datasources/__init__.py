"""Datasources: the first step of a pipeline (CSV, Parquet, pandas DataFrame, SQL)."""

from __future__ import annotations

from typing import Any

from zenml.datasources.base import BaseDatasource
from zenml.datasources.csv import CSVDatasource
from zenml.datasources.dataframe import DataFrameDatasource
from zenml.datasources.parquet import ParquetDatasource
from zenml.datasources.sql import SQLDatasource
from zenml.utils.legacy import legacy_name_error as _legacy_name_error

__all__ = ["BaseDatasource", "CSVDatasource", "DataFrameDatasource", "ParquetDatasource", "SQLDatasource"]


def __getattr__(name: str) -> Any:
    legacy = _legacy_name_error(__name__, name)  # ``from PKG import TrainingPipeline``: say what it is here
    if legacy is not None:
        raise legacy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
