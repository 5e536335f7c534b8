"""Write the first N rows (default 100) of scikit-learn's diabetes data to data.csv: the source the flow reads."""

import sys

from sklearn.datasets import load_diabetes


def write_rows(rows: int) -> None:
    load_diabetes(as_frame=True).frame.head(rows).to_csv("data.csv", index=False)
    print(f"data.csv: {rows} rows")


if __name__ == "__main__":
    write_rows(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
