"""Start ``zen serve --pipeline serving`` (the latest deployed bundle), ask it for predictions over HTTP, stop it.

What a client of the model does, with only the standard library: read ``/metadata``, POST three
raw rows of the CSV to ``/predict``, show a 422 for a misspelled column, then stop the server
with Ctrl-C's signal. Run ``python train.py`` first.
"""

from __future__ import annotations

import csv
import json
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from itertools import islice
from pathlib import Path
from typing import Any

ZEN = str(Path(sys.executable).parent / "zen")
DATA = Path(__file__).parent / "data" / "breast_cancer.csv"


def call(url: str, body: Any = None) -> tuple[int, Any]:
    """GET ``url``, or POST ``body`` as JSON; the status and the decoded JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def start() -> tuple[subprocess.Popen[str], str]:
    """``zen serve --pipeline serving`` on a free port; the process and its base URL."""
    command = [ZEN, "serve", "--pipeline", "serving", "--port", "0", "--no-access-log"]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    for line in server.stderr:
        found = re.search(r"Uvicorn running on (http://\S+)", line)
        if found:
            return server, found.group(1)
    raise SystemExit(f"zen serve exited {server.wait()} before listening")


def main() -> None:
    with DATA.open() as handle:
        rows = [{name: float(value) for name, value in row.items()} for row in islice(csv.DictReader(handle), 3)]
    server, url = start()
    try:
        _, metadata = call(f"{url}/metadata")
        print(f"serving run {metadata['run_id']} of pipeline {metadata['pipeline']}: {metadata['task']} "
              f"{metadata['classes']}, accuracy={metadata['metrics']['accuracy']:.3f}")
        status, answer = call(f"{url}/predict", {"rows": rows})  # the label column is ignored
        for row, prediction in zip(rows, answer["predictions"], strict=True):
            print(f"{status} label={int(row['malignant'])} prediction={prediction['prediction']} "
                  f"score={prediction['score']:.3f}")
        misspelled = {("mean_radus" if name == "mean_radius" else name): value for name, value in rows[0].items()}
        status, answer = call(f"{url}/predict", {"rows": [misspelled]})
        print(f"{status} {answer['detail']}")
    finally:
        server.send_signal(signal.SIGINT)  # what Ctrl-C sends: uvicorn finishes open requests and exits
        print(f"server stopped, exit code {server.wait(timeout=60)}")


if __name__ == "__main__":
    main()
