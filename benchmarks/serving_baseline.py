"""The hand-written FastAPI endpoint ``benchmarks.serving`` holds ``zen serve`` against.

What a user writes without zenml: parse the JSON rows, put the features in the model's order,
z-score them with the training means and deviations, call the scikit-learn model's
``predict_proba``, answer class name, score (the predicted class's probability, as zenml's) and
per-class probabilities. Run as
``python -m benchmarks.serving_baseline FOLDER PORT``; FOLDER holds ``model.pkl`` and ``scaling.json``.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Request  # at module level: FastAPI resolves the handler's annotations here
from fastapi.responses import Response


def create_app(folder: Path) -> Any:
    """The FastAPI app: ``POST /predict`` with ``{"rows": [...]}``."""
    scaling = json.loads((folder / "scaling.json").read_text())
    model = pickle.loads((folder / "model.pkl").read_bytes())  # a benchmark's own file, written just before
    features, classes = scaling["features"], scaling["classes"]
    mean, std = np.array(scaling["mean"]), np.array(scaling["std"])
    app = FastAPI()

    @app.post("/predict")
    async def predict(request: Request) -> Response:
        rows = json.loads(await request.body())["rows"]
        x = (np.array([[row[name] for name in features] for row in rows], dtype="float64") - mean) / std
        probabilities = model.predict_proba(x)
        answer = [
            {"prediction": classes[int(p.argmax())], "score": float(p.max()),
             **{f"probability_{name}": float(value) for name, value in zip(classes, p, strict=True)}}
            for p in probabilities
        ]
        return Response(json.dumps({"predictions": answer}), media_type="application/json")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_app(Path(sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]), access_log=False)
