"""Stacks from Python: register one, run on it, inspect it (credentials redacted)."""

from zenml import Repository, pipeline, step


@step
def answer() -> int:
    """A trivial step."""
    return 42


@pipeline
def tiny() -> None:
    """One step."""
    answer()


if __name__ == "__main__":
    repo = Repository()
    # An in-memory artifact store and a separate SQLite file: handy for tests and experiments.
    repo.register_stack("scratch", artifact_store="memory://scratch", metadata_store="sqlite:///.zen/scratch.db")
    repo.set_active_stack("scratch")  # like `zen stack set scratch`; ZEN_STACK=scratch does it per process
    run = tiny.run()
    print(run.status, run.steps["answer"].output(), run.steps["answer"].outputs["output"].uri)
    print([stack.name for stack in repo.stacks()], "active:", repo.active_stack_name())

    repo.set_active_stack("default")

    repo.register_stack("team", metadata_store="postgresql://zen:s3cret@db.internal:5432/zen")
    print(repo.stack("team").describe()["metadata_store"])
