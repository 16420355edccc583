# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MV := $(BIN)/musicvae-tf

# Demo settings: the built-in folk corpus, and minutes of CPU training per model.
DEMO_OUT ?= demo_out
DEMO_CORPUS ?= music21:oneills1850
DEMO_MINUTES_2BAR ?= 3
DEMO_MINUTES_16BAR ?= 3
DEMO_MINUTES_INPAINT ?= 1.5
DATA_2BAR := $(DEMO_OUT)/data/mel_2bar
DATA_16BAR := $(DEMO_OUT)/data/mel_16bar
RUNS := $(DEMO_OUT)/runs

# Shipped models (musicvae_tf/pretrained/): two held-out folk tunes to interpolate between and one
# to inpaint (test split of the folk data, so the models never trained on them).
TUNE_A ?= music21:oneills1850/1556-1624.abc\#9
TUNE_B ?= music21:oneills1850/1625-1700.abc\#25
TUNE_INPAINT ?= music21:oneills1850/1577-1624.abc\#4
SHIPPED := $(DEMO_OUT)/shipped
PRETRAINED_WORK ?= pretrained_work
PRETRAINED_MINUTES ?= 90

.PHONY: demo music test install clean pretrained

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Prepare the built-in corpus, train the small 2-bar and 16-bar hierarchical models and the
# inpainting pair on CPU, evaluate them, then sample, interpolate and inpaint into $(DEMO_OUT)/.
# Re-running resumes the trainings where they stopped.
# Music first: sample, interpolate and inpaint with the shipped folk models (about a minute).
music: $(STAMP)
	$(MV) sample --model folk-hierdec-mel_16bar --num-outputs 3 --seed 1 \
		--out $(SHIPPED)/folk-hierdec-mel_16bar/samples
	$(MV) interpolate --model folk-hierdec-mel_16bar --input-piece "$(TUNE_A)" "$(TUNE_B)" \
		--num-outputs 5 --out $(SHIPPED)/folk-hierdec-mel_16bar/interpolation
	$(MV) sample --model folk-mel_2bar --num-outputs 5 --seed 1 --out $(SHIPPED)/folk-mel_2bar/samples
	$(MV) interpolate --model folk-mel_2bar --input-piece "$(TUNE_A)" "$(TUNE_B)" --bar 2 --num-outputs 7 \
		--out $(SHIPPED)/folk-mel_2bar/interpolation
	$(MV) inpaint --model folk-inpaint --input-piece "$(TUNE_INPAINT)" --bars 7-10 --num-outputs 3 \
		--seed 1 --out $(SHIPPED)/folk-inpaint
	@echo "Shipped models: MIDI + PNG in $(SHIPPED)/."

demo: music
	@echo "Now training small models on the built-in corpus."
	$(MV) prepare --config demo-mel_2bar --corpus $(DEMO_CORPUS) --out $(DATA_2BAR)
	$(MV) prepare --config demo-hierdec-mel_16bar --corpus $(DEMO_CORPUS) --out $(DATA_16BAR)
	$(MV) train --config demo-mel_2bar --data $(DATA_2BAR) --run-dir $(RUNS)/mel_2bar \
		--strategy cpu --minutes $(DEMO_MINUTES_2BAR)
	$(MV) evaluate --model $(RUNS)/mel_2bar --data $(DATA_2BAR) --split test
	$(MV) train --config demo-hierdec-mel_16bar --data $(DATA_16BAR) --run-dir $(RUNS)/hierdec-mel_16bar \
		--strategy cpu --minutes $(DEMO_MINUTES_16BAR)
	$(MV) evaluate --model $(RUNS)/hierdec-mel_16bar --data $(DATA_16BAR) --split test
	$(MV) train-inpainting --config inpaint-latent-rnn-demo --data $(DATA_16BAR) --run-dir $(RUNS)/inpaint \
		--strategy cpu --minutes $(DEMO_MINUTES_INPAINT)
	$(MV) sample --model $(RUNS)/mel_2bar --num-outputs 5 --seed 1 --out $(DEMO_OUT)/mel_2bar/samples
	$(MV) interpolate --model $(RUNS)/mel_2bar --from-split $(DATA_2BAR) test --num-outputs 5 --seed 1 \
		--out $(DEMO_OUT)/mel_2bar/interpolation
	$(MV) sample --model $(RUNS)/hierdec-mel_16bar --num-outputs 3 --seed 1 --out $(DEMO_OUT)/hierdec-mel_16bar/samples
	$(MV) interpolate --model $(RUNS)/hierdec-mel_16bar --from-split $(DATA_16BAR) test --num-outputs 5 --seed 1 \
		--out $(DEMO_OUT)/hierdec-mel_16bar/interpolation
	$(MV) inpaint --model $(RUNS)/inpaint --held-out-from $(DATA_16BAR) --bars 7-10 --num-outputs 3 --seed 1 \
		--out $(DEMO_OUT)/inpaint
	@echo
	@echo "Demo done. Models: $(RUNS)/{mel_2bar,hierdec-mel_16bar,inpaint}/model.keras"
	@echo "Outputs (MIDI + PNG): $(DEMO_OUT)/mel_2bar, $(DEMO_OUT)/hierdec-mel_16bar, $(DEMO_OUT)/inpaint"

# Rebuild the shipped folk models from scratch: prepare, train (all at once, one thread each, a
# time budget per model), evaluate and pack into musicvae_tf/pretrained/ (see its MODEL_CARD.md files).
pretrained: $(STAMP)
	$(BIN)/python -m musicvae_tf.pretrained.recipe --work $(PRETRAINED_WORK) --minutes $(PRETRAINED_MINUTES)

# Lint (ruff, configured in pyproject.toml), then the test suite.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(DEMO_OUT) $(PRETRAINED_WORK)
