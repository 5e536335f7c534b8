"""``zen serve``: answer predictions over HTTP from a run's model bundle, a bundle folder or a pipeline's deployment."""

from __future__ import annotations

import gc
import json
import os
import sys
from typing import Any

import typer
from rich.markup import escape

from zenml.cli.options import StackOption
from zenml.cli.output import err_console
from zenml.exceptions import ConfigError


def serve(
    target: str | None = typer.Argument(
        None, metavar="RUN|BUNDLE", help="A run id (its model bundle), or a bundle folder or URL."
    ),
    pipeline: str | None = typer.Option(
        None, "--pipeline", help="Serve this pipeline's latest deployed bundle (see 'zen models list')."
    ),
    host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", metavar="PORT", min=0, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", metavar="N", min=1, help="Worker processes (each loads the model)."),
    max_body_mb: float = typer.Option(
        2.0, "--max-body-mb", metavar="MB", min=0.001, help="Refuse request bodies over this size (413)."
    ),
    max_rows: int = typer.Option(10_000, "--max-rows", metavar="N", min=1, help="Refuse requests of more rows (413)."),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="Log one line per request."),
    stack: StackOption = None,
) -> None:
    """Serve a model over HTTP: POST /predict, GET /health, GET /metadata, docs at /docs (Ctrl-C stops it)."""
    if (target is None) == (pipeline is None):
        raise ConfigError("name what to serve: 'zen serve RUN_ID', 'zen serve BUNDLE_FOLDER' or 'zen serve "
                          "--pipeline NAME' (one of them)")
    location = target if target is not None else _deployed(pipeline or "", stack)
    if stack is not None:
        os.environ["ZEN_STACK"] = stack  # a run id is resolved in this stack's stores, here and in each worker
    from zenml.serving import load_bundle
    from zenml.serving.app import BUNDLE_ENV, LIMITS_ENV, create_app

    bundle = load_bundle(location)  # refuse a bad target before binding the port (exit 2, one line)
    import uvicorn

    err_console.print(
        f"Serving the {bundle.task} model of run {bundle.provenance.get('run_id')} from {escape(bundle.path)} on "
        f"http://{host}:{port} (docs: http://{host}:{port}/docs); Ctrl-C stops it",
        highlight=False,
        soft_wrap=True,
    )
    options = {"host": host, "port": port, "access_log": access_log, "timeout_graceful_shutdown": 5}
    limits: dict[str, Any] = {"max_body_mb": max_body_mb, "max_rows": max_rows}
    try:
        if workers == 1:
            app = create_app(bundle, **limits)
            # what is loaded now lives as long as the server: keep it out of every garbage collection pass
            gc.freeze()
            uvicorn.run(app, **options)  # type: ignore[arg-type]
        else:
            # each worker process imports the app by name, so it learns the bundle from the environment
            os.environ[BUNDLE_ENV] = bundle.path
            os.environ[LIMITS_ENV] = json.dumps(limits)
            uvicorn.run("zenml.serving.app:app_from_env", factory=True, workers=workers, **options)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        pass  # uvicorn has shut down gracefully and re-raised Ctrl-C: stopping is the normal end of a server
    except SystemExit as exc:  # uvicorn exits 1 when it cannot bind (the port is taken): say which
        if exc.code not in (0, None):
            raise ConfigError(f"could not listen on {host}:{port} (see above); pick another --port") from None
    err_console.print("zen serve: stopped", highlight=False)
    sys.stderr.flush()


def _deployed(pipeline: str, stack: str | None) -> str:
    """Where ``pipeline``'s latest deployment that passed its gate put its bundle.

    Raises:
        ConfigError: the pipeline has no such deployment (with why its latest one was not deployed).
    """
    from zenml.repository import Repository

    metadata = Repository(stack=stack).stores().metadata
    deployed = metadata.deployments(pipeline, limit=1, deployed_only=True)
    if deployed and deployed[0].uri:
        return deployed[0].uri
    latest = metadata.deployments(pipeline, limit=1)
    why = f" (its latest run {latest[0].run_id} was not deployed: {latest[0].reason})" if latest else ""
    raise ConfigError(
        f"pipeline '{pipeline}' has no deployed model{why}; add a deployer, "
        f"pipeline.add_deployer(LocalDeployer(target=...)), or see 'zen models list --pipeline {pipeline}'"
    )
