# Mitroo developer commands. `make run` and `make test` work on a fresh clone: they
# create the virtualenv and install what is missing first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run lint test bench package clean chromium synth infra-cli

install: $(STAMP)

# Reinstall only when the requirement files change.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip<26.3"  # chalice 1.34 packages with pip <26.3
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

run: install
	$(PY) -m devtools.run

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy chalicelib app.py devtools standins infra

# The browser tests drive Debian's Chromium (Playwright cannot download its own here).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell test "$$(id -u)" = 0 || echo sudo)

chromium:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# The pinned CDK CLI (infra/package.json) for `make synth` and the infra tests.
CDK := infra/node_modules/.bin/cdk
$(CDK): infra/package.json infra/package-lock.json
	cd infra && npm ci --no-audit --no-fund --silent
	touch $(CDK)

infra-cli: $(CDK)

# The certified OpenID relying party the provider tests drive (tests/oidc_rp/package.json).
RP_CLIENT := tests/oidc_rp/node_modules/openid-client/package.json
$(RP_CLIENT): tests/oidc_rp/package.json tests/oidc_rp/package-lock.json
	cd tests/oidc_rp && npm ci --no-audit --no-fund --silent
	touch $(RP_CLIENT)

.PHONY: rp-client
rp-client: $(RP_CLIENT)

# MITROO_SKIP_INFRA=1 skips the CDK checks locally (CI never sets it).
test: lint chromium rp-client $(if $(filter 1,$(MITROO_SKIP_INFRA)),,infra-cli)
	$(PY) -m pytest -n auto --dist loadgroup

# The long schemathesis run over HTTP (tests/fuzz; `make test` runs 5 examples per
# operation, the same ones each time): new examples every run, MITROO_FUZZ_SEED=N replays.
MITROO_FUZZ_EXAMPLES ?= 200
.PHONY: fuzz
fuzz: install
	MITROO_FUZZ_EXAMPLES=$(MITROO_FUZZ_EXAMPLES) $(PY) -m pytest tests/fuzz

# The suites that talk to AWS against LocalStack at AWS_ENDPOINT_URL (default
# http://127.0.0.1:4566), handlers in-process as in `make test`. A LocalStack already
# answering there is used and left running; otherwise ../shared/tools/localstack-host
# runs one on the host for this target only; otherwise `docker compose up -d` first.
TEST_LOCALSTACK_URL := $(or $(AWS_ENDPOINT_URL),http://127.0.0.1:4566)
LOCALSTACK_HOST_TOOL := ../shared/tools/localstack-host

.PHONY: test-localstack
test-localstack: install
	@if curl -sf -m 5 -o /dev/null "$(TEST_LOCALSTACK_URL)/_localstack/health"; then \
	  echo "using the LocalStack at $(TEST_LOCALSTACK_URL)"; \
	elif curl -s -m 5 -o /dev/null "$(TEST_LOCALSTACK_URL)"; then \
	  echo "$(TEST_LOCALSTACK_URL) answers but is not LocalStack (\`make run\`'s emulator?): stop it first" >&2; exit 1; \
	elif [ "$(TEST_LOCALSTACK_URL)" = http://127.0.0.1:4566 ] && [ -e $(LOCALSTACK_HOST_TOOL) ]; then \
	  trap 'bash $(LOCALSTACK_HOST_TOOL) stop' EXIT; trap 'exit 130' INT TERM; \
	  bash $(LOCALSTACK_HOST_TOOL) start || exit 1; \
	else \
	  echo "no LocalStack answers at $(TEST_LOCALSTACK_URL): start one with \`docker compose up -d\` (docker-compose.yml)" >&2; \
	  exit 1; \
	fi; \
	MITROO_TEST_AWS_ENDPOINT_URL=$(TEST_LOCALSTACK_URL) $(PY) -m pytest -n auto --dist loadgroup \
	  tests/integration tests/contract tests/adapters tests/infra/test_localstack_cloudformation.py

synth: install infra-cli
	cd infra && CDK_DISABLE_CLI_TELEMETRY=true node_modules/.bin/cdk synth -q -o cdk.out
	@ls infra/cdk.out/*.template.json

bench: install
	$(PY) -m bench

# A short load run (login, refresh, /me, the provider's token endpoint and userinfo) against `chalice local`; counts: `python -m bench.load --help`.
.PHONY: load
load: install
	$(PY) -m bench.load

package: install
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-west-1} $(PY) -m infra.deployment_package package dist/deployment.zip
	$(PY) -m infra.deployment_package --check dist/deployment.zip
	@ls -l dist/deployment.zip

clean:
	rm -rf $(VENV) dist chalice.out .pytest_cache
