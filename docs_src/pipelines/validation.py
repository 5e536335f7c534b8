"""Graph validation: each mistake is a GraphError that names the step and input at fault."""

from typing import Any

from flows import Normalise, fit, halve, load

from zenml import pipeline, step
from zenml.exceptions import GraphError
from zenml.pipelines import SimplePipeline


@step
def label() -> str:
    """A step whose output is a string."""
    return "spam"


@pipeline
def literal_input() -> None:
    """Passes a literal where an input is expected."""
    fit([1.0, 2.0])


def show(action: Any) -> None:
    """Run ``action`` and print the GraphError it raises."""
    try:
        action()
    except GraphError as error:
        print(error)


if __name__ == "__main__":
    typo = SimplePipeline(name="typo").add_step("load", load).add_step("fit", fit, inputs={"train": "lod"})
    show(typo.order)
    no_output = SimplePipeline(name="no_output").add_step("halve", halve, inputs={"data": "load"})
    show(no_output.add_step("load", load).add_step("fit", fit, inputs={"train": "halve.test"}).order)
    show(SimplePipeline(name="unwired").add_step("fit", fit).order)
    show(SimplePipeline(name="types").add_step("label", label).add_step("fit", fit, inputs={"train": "label"}).order)
    cycle = SimplePipeline(name="cycle")
    cycle.add_step("a", Normalise(), inputs={"train": "b.train", "eval": "b.eval"})
    cycle.add_step("b", Normalise(), inputs={"train": "a.train", "eval": "a.eval"})
    show(cycle.order)
    show(lambda: SimplePipeline(name="twice").add_step("load", load).add_step("load", load))
    show(lambda: SimplePipeline(name="slots").add_trainer(fit).add_trainer(fit))
    show(literal_input.order)
    show(lambda: fit(load()))
