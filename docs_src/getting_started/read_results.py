"""Read back what runs recorded: pipelines, runs, steps, parameters, artifacts and metrics."""

from zenml import Repository

if __name__ == "__main__":
    repo = Repository()  # found by walking up from the working directory to .zen/
    for pipeline in repo.pipelines():
        print("pipeline", pipeline.name, "runs:", pipeline.run_count)

    run = repo.runs(pipeline="scaled")[0]  # newest first
    print("run", run.id, run.status)
    for name, step in run.steps.items():
        print(" ", name, step.status, step.params, list(step.outputs))

    print("scale output:", run.steps["scale"].outputs["output"].read())
    print("total:", run.steps["total"].output())  # shortcut for a step with one output
    print("metrics:", run.metrics())
    print("spec params:", run.spec.steps["scale"].params)
    print("same run by id:", repo.run(run.id).id == run.id)
