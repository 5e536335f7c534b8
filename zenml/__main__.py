"""``python -m zenml`` runs the ``zen`` command line (what orchestrators call on workers)."""

from zenml.cli import main

if __name__ == "__main__":
    main()
