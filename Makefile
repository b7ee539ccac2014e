# make setup: .venv at the repo root with frameworkbench and every framework (idempotent)
# make demo:  the document's first example on all five targets, report in reports/
# make test:  the test suite
# make bench: the benchmarks of benchmarks/ (overhead, roofline, scaling, wallclock, worker_reuse), tables on stdout
# make document: the studies behind the source document's tables, then reports/document.{en,ru}.md
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo document test test-fast bench clean
STUDY_DB ?= /tmp/fb-studies.db

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[all,dev]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/frameworkbench run specs/seed_tf_keras.yaml --out reports

document: setup
	for s in frameworks activations layers; do $(VENV)/bin/frameworkbench study $$s --db $(STUDY_DB) || exit 1; done
	$(VENV)/bin/frameworkbench lm-check --db $(STUDY_DB)
	$(VENV)/bin/frameworkbench run specs/tiny_transformer.yaml --targets all --db $(STUDY_DB)
	$(VENV)/bin/frameworkbench parity specs/tiny_transformer.yaml --targets all --epochs 3 --db $(STUDY_DB)
	$(VENV)/bin/frameworkbench report --out reports --lang en --db $(STUDY_DB)
	$(VENV)/bin/frameworkbench report --out reports --lang ru --db $(STUDY_DB)

bench: setup
	@start=$$(date +%s); for b in overhead roofline scaling wallclock "worker_reuse --rounds 1"; do \
		$(PY) -m benchmarks.$$b || exit 1; echo; done; \
	echo "make bench: the benchmarks took $$(( $$(date +%s) - start )) s"

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

clean:
	rm -rf $(VENV) *.egg-info build dist
