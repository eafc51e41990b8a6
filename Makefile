# Everything a newcomer needs, from a fresh clone:
#   make demo   run the backlink check on the embedded store against a demo site served on loopback
#   make test   run the test suite (starts its own SecantusDB, Redis, Scrapyd and web servers)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo lint test bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,deploy]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/scrapy demo
	@echo "Open the demo's report in a browser: $${LINKCRAWLER_DATA_DIR:-.linkcrawler}/demo-report.html"

# ruff (style and bugs) and mypy (--strict on the shared layer and the capability models).
lint: install
	$(BIN)/ruff check linkcrawler pipelines tests benchmarks deploy
	$(BIN)/mypy

test: install lint
	$(BIN)/pytest

bench: install
	$(BIN)/python -m benchmarks.backlinks

clean:
	rm -rf $(VENV) .linkcrawler build *.egg-info
