# make demo: install what is missing, then run the demo pipeline on CPU.
# make test: install what is missing, then run the test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.mmsd-installed
export OMP_NUM_THREADS ?= 1

.PHONY: install demo test clean-demo

$(STAMP): requirements/runtime.txt requirements/tests.txt setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements/runtime.txt \
		-r requirements/tests.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/python tools/make_demo_data.py data/demo_shapes
	test -f work_dirs/demo/stage0/iter_300.pth || \
		$(BIN)/python tools/train.py \
		configs/demo/mae_vit-tiny-p8_1xb32-300it_shapes.py \
		--work-dir work_dirs/demo/stage0
	$(BIN)/python tools/train.py \
		configs/demo/sd_vit-tiny-p8_1xb32-2x100it_shapes.py \
		--work-dir work_dirs/demo/sd
	$(BIN)/python tools/train.py \
		configs/demo/ft_vit-tiny-p8_1xb32-200it_shapes.py \
		--work-dir work_dirs/demo/ft
	$(BIN)/python tools/test.py \
		configs/demo/ft_vit-tiny-p8_1xb32-200it_shapes.py \
		work_dirs/demo/ft/iter_200.pth --work-dir work_dirs/demo/test

test: install
	$(BIN)/python -m pytest tests -q -p no:cacheprovider

clean-demo:
	rm -rf work_dirs/demo data/demo_shapes
