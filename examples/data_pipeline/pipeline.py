"""CSV → statistics → random split → standard preprocessing, on the local, Beam or Spark backend.

Run from this folder: ``zen init``, then ``python pipeline.py`` (writes ``data/patients.csv``
first), or ``zen run pipeline.py:patients --processing beam`` (or ``spark``) once the CSV exists.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zenml.datasources import CSVDatasource
from zenml.pipelines import SimplePipeline
from zenml.steps.preprocessor import StandardPreprocessor
from zenml.steps.split import RandomSplit

DATA = Path(__file__).parent / "data" / "patients.csv"


def write_csv(path: Path = DATA, rows: int = 5000, seed: int = 0) -> Path:
    """A synthetic patients table with numeric, categorical and boolean columns and gaps."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    age = rng.integers(18, 90, rows)
    bmi = np.round(rng.normal(28, 6, rows), 1)
    region = rng.choice(["north", "south", "east", "west"], rows)
    smoker = rng.choice(["true", "false"], rows, p=[0.25, 0.75])
    risk = (age / 90 + (bmi - 28) / 30 + (smoker == "true") * 0.3 + rng.normal(0, 0.2, rows)) > 0.9
    with path.open("w") as handle:
        handle.write("age,bmi,region,smoker,at_risk\n")
        for i in range(rows):
            shown_bmi = "" if i % 37 == 0 else str(bmi[i])  # some measurements are missing
            handle.write(f"{age[i]},{shown_bmi},{region[i]},{smoker[i]},{'yes' if risk[i] else 'no'}\n")
    return path


patients = SimplePipeline(name="patients")
patients.add_datasource(CSVDatasource(path="data/patients.csv", schema={"smoker": "bool"}))
patients.add_split(RandomSplit(ratios={"train": 0.7, "eval": 0.2, "test": 0.1}, seed=42))
patients.add_preprocessor(StandardPreprocessor(labels=["at_risk"], overwrite={"age": {"transform": "minmax"}}))

if __name__ == "__main__":
    write_csv()
    run = patients.run()
    statistics = run.steps["split"].outputs["statistics"].read()
    print(run.status, {split: info["rows"] for split, info in statistics["splits"].items()})
    train = run.steps["preprocessor"].outputs["data"].read().to_pandas("train")
    print(train.describe().loc[["mean", "std"]].round(3))
