"""The orders tables of the batch-inference example: labelled ones to train on, unlabelled new ones to predict."""

from __future__ import annotations

import random
from pathlib import Path

DATA = Path(__file__).parent / "data"


def returned(items: int, price: float) -> bool:
    """The rule behind the labels (before noise): large, cheap orders come back."""
    return items * 10 - price > 0


def write_csv(path: Path, rows: int, seed: int, labelled: bool = True) -> Path:
    """``rows`` orders; with ``labelled``, a noisy ``returned`` column (yes/no) too."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        handle.write("items,price,channel" + (",returned\n" if labelled else "\n"))
        for _ in range(rows):
            items, price = rng.randint(1, 10), rng.uniform(5, 100)
            label = returned(items, price + rng.gauss(0, 8))
            handle.write(f"{items},{price:.2f},{rng.choice(['web', 'shop'])}")
            handle.write(f",{'yes' if label else 'no'}\n" if labelled else "\n")
    return path
