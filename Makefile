.PHONY: check test quickstart bench lint

# One command for developers and CI: ruff, mypy --strict, import-linter, pytest.
check test:
	bash scripts/test

quickstart:
	bash scripts/quickstart

lint:
	.venv/bin/ruff check . && .venv/bin/mypy && .venv/bin/lint-imports

bench:
	.venv/bin/python -m benchmarks
