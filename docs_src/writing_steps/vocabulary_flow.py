"""A pipeline whose step returns a ``Vocabulary``, stored by the custom materializer."""

from vocabulary import Vocabulary

from zenml import pipeline, step


@step
def build_vocabulary(text: str = "the cat sat on the mat", min_length: int = 3) -> Vocabulary:
    """Distinct words of at least ``min_length`` characters, sorted."""
    return Vocabulary(tokens=sorted({w for w in text.split() if len(w) >= min_length}))


@step
def size(vocabulary: Vocabulary) -> int:
    """How many tokens the vocabulary holds."""
    return len(vocabulary.tokens)


@pipeline
def vocab() -> None:
    """build_vocabulary → size."""
    size(build_vocabulary())


if __name__ == "__main__":
    run = vocab.run()
    artifact = run.steps["build_vocabulary"].outputs["output"]
    print(artifact.format, artifact.read())
    print("size:", run.steps["size"].output())
