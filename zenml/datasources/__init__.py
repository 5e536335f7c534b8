"""Datasources: the first step of a pipeline (CSV, Parquet, pandas DataFrame, SQL)."""

from zenml.datasources.base import BaseDatasource
from zenml.datasources.csv import CSVDatasource
from zenml.datasources.dataframe import DataFrameDatasource
from zenml.datasources.parquet import ParquetDatasource
from zenml.datasources.sql import SQLDatasource

__all__ = ["BaseDatasource", "CSVDatasource", "DataFrameDatasource", "ParquetDatasource", "SQLDatasource"]
