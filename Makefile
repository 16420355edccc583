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

.PHONY: demo test install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Prepare the built-in corpus, train the small 2-bar and 16-bar hierarchical models and the
# inpainting pair on CPU, evaluate them, then sample, interpolate and inpaint into $(DEMO_OUT)/.
# Re-running resumes the trainings where they stopped.
demo: $(STAMP)
	$(MV) prepare --config demo-mel_2bar --corpus $(DEMO_CORPUS) --out $(DATA_2BAR)
	$(MV) prepare --config demo-hierdec-mel_16bar --corpus $(DEMO_CORPUS) --out $(DATA_16BAR)
	$(MV) train --config demo-mel_2bar --data $(DATA_2BAR) --run-dir $(RUNS)/mel_2bar \
		--strategy cpu --minutes $(DEMO_MINUTES_2BAR)
	$(MV) evaluate --run-dir $(RUNS)/mel_2bar --data $(DATA_2BAR) --split test
	$(MV) train --config demo-hierdec-mel_16bar --data $(DATA_16BAR) --run-dir $(RUNS)/hierdec-mel_16bar \
		--strategy cpu --minutes $(DEMO_MINUTES_16BAR)
	$(MV) evaluate --run-dir $(RUNS)/hierdec-mel_16bar --data $(DATA_16BAR) --split test
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

test: $(STAMP)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(DEMO_OUT)
