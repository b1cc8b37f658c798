# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test browser lint typecheck audit unit bench soak lock clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/m2pos demo

test: $(STAMP) browser lint typecheck audit unit

# The console's browser tests drive Debian's Chromium (Playwright's own browser download does not
# work everywhere); installed once, as root or through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy

# Every pin of requirements.lock against the known vulnerabilities (scripts/audit.py says which
# packages it could not audit when the vulnerability service is out of reach; AUDIT_ARGS=--strict
# fails on them).
audit: $(STAMP)
	$(BIN)/python scripts/audit.py $(AUDIT_ARGS)

unit: $(STAMP)
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/read_path.py

# The long soak with faults and kills: 10,000 orders into each POS sandbox (docs/reliability.md);
# `make test` runs a short one. SOAK_ARGS="--orders 2000 --pos heartland --seed 7" narrows it.
soak: $(STAMP)
	$(BIN)/python -m tests.soak $(SOAK_ARGS)

# The whole sync cycle with the memory POS (a few minutes; see bench/cycle.py --help).
.PHONY: bench-cycle
bench-cycle: $(STAMP)
	$(BIN)/python bench/cycle.py

# Orders into Lightspeed OnSite and OnSite requests per order (a minute or two; see bench/onsite.py --help).
.PHONY: bench-onsite
bench-onsite: $(STAMP)
	$(BIN)/python bench/onsite.py

# The console's screenshots in docs/screenshots/, from a running demo (about a minute).
.PHONY: screenshots
screenshots: $(STAMP) browser
	$(BIN)/python scripts/screenshots.py

# Re-pin every dependency after editing pyproject.toml.
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet -e '.[dev]'
	.lockenv/bin/pip freeze --exclude-editable | grep -v '^m2pos' > requirements.lock
	rm -rf .lockenv

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
