# The suite's commands. Everything runs through uv in the workspace's .venv.
SERVICES := pipeline scheduler notifier talentpool
UV ?= uv
PYTEST_ARGS ?=

.PHONY: help install env db migrate run test test-fast lint format docs bench clean

help:
	@echo "make run       install, create database/roles/schemas, migrate, start all four services"
	@echo "make test      every test against the local PostgreSQL and RabbitMQ"
	@echo "make lint      ruff, mypy --strict, import contracts"
	@echo "make migrate   create database, roles and schemas; apply every service's migrations"
	@echo "make docs      regenerate docs/asyncapi.yaml and docs/openapi/*.json"
	@echo "make bench     benchmarks; results in bench/results/, summary in docs/benchmarks.md"

# Bytecode is compiled ahead (the dependencies by uv, our own code by compileall): where
# PYTHONDONTWRITEBYTECODE is set, Python never caches it and every process (each service the
# tests start) would compile SQLAlchemy, FastAPI and the rest from source again, 2 to 3 s of CPU.
install:
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet "uv>=0.9"
	$(UV) sync --frozen --all-packages --compile-bytecode --quiet
	$(UV) run python -m compileall -q -j 0 shared services bench scripts tests >/dev/null

# Development secrets (a JWT secret, PII keys), generated once and kept out of git.
env:
	@test -f .env || { \
		echo "RECRUITING_JWT_SECRET=$$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')" > .env; \
		echo "wrote .env with a fresh development JWT secret"; }
	@grep -qs '^RECRUITING_PII_KEYS=' .env || { \
		python3 -c 'import base64, os; key = lambda: base64.b64encode(os.urandom(32)).decode(); \
			print("RECRUITING_PII_KEYS=" + chr(39) + "{\"dev-1\": \"" + key() + "\"}" + chr(39)); \
			print("RECRUITING_PII_CURRENT_KEY=dev-1"); print("RECRUITING_PII_INDEX_KEY=" + key())' >> .env; \
		echo "added fresh development PII keys to .env"; }

migrate: install
	@for service in $(SERVICES); do $(UV) run python -m $$service migrate || exit 1; done

run: install env migrate
	$(UV) run honcho start -f Procfile

test: install
	$(UV) run pytest $(PYTEST_ARGS)

test-fast: install
	$(UV) run pytest -m "not e2e" $(PYTEST_ARGS)

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy shared $(foreach s,$(SERVICES),services/$(s)/$(s)) bench scripts tests
	$(UV) run lint-imports

format: install
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

docs: install
	$(UV) run python -m scripts.generate_docs

bench: install
	$(UV) run python -m bench

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache
