"""Writes scikit-learn's bundled breast-cancer dataset as ``breast_cancer.csv`` (the example's data)."""

import csv

from sklearn.datasets import load_breast_cancer

data = load_breast_cancer()
columns = [name.replace(" ", "_") for name in data.feature_names]
with open("breast_cancer.csv", "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow([*columns, "malignant"])
    for row, target in zip(data.data, data.target, strict=True):
        writer.writerow([*row, int(target == 0)])  # scikit-learn codes malignant as 0
print(f"wrote breast_cancer.csv ({len(data.target)} rows)")
