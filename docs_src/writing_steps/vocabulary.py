"""A custom type and its materializer: a vocabulary stored as a text file, one token per line."""

from dataclasses import dataclass

from zenml.artifacts import ArtifactFolder, BaseMaterializer, register_materializer


@dataclass
class Vocabulary:
    """The distinct tokens of a corpus, in a fixed order."""

    tokens: list[str]


@register_materializer
class VocabularyMaterializer(BaseMaterializer):
    """Saves a ``Vocabulary`` as ``tokens.txt``; ``format`` is what the metadata store records."""

    format = "vocabulary-txt"
    type_names = ("vocabulary.Vocabulary",)  # "module.QualifiedName" of every type it handles

    def save(self, value: Vocabulary, folder: ArtifactFolder) -> None:
        """Write the tokens into the artifact's folder."""
        with folder.open("tokens.txt", "w") as handle:
            handle.write("\n".join(value.tokens))

    def load(self, folder: ArtifactFolder) -> Vocabulary:
        """Read the tokens back."""
        with folder.open("tokens.txt", "r") as handle:
            return Vocabulary(tokens=handle.read().split("\n"))
