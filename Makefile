# Entry points. `make demo` runs the stack locally; `make test` runs every test.
# Both set up what they need on a fresh Debian 12 machine (run as root, or with sudo).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv/bin
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Test platform for molecule: arm64 (default, like the Graviton host) or amd64 (fast iteration).
ARCH ?= arm64
export MECOVE_TEST_ARCH := $(ARCH)

.PHONY: help demo demo-destroy verify deploy-benchmark deploy-memory task-benchmark setup engine images lint unit provision-test molecule test lock

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

demo: ## The main job locally: AWS emulator + arm64 host container; provision, configure, deploy
	@bash scripts/demo.sh up

demo-destroy: ## Remove everything `make demo` created
	@bash scripts/demo.sh down

verify: setup ## Check the app host with tests/live; the live EC2 host: make verify INVENTORY=inventories/aws
	python -m pytest tests/live -rs --inventory $(or $(INVENTORY),inventories/local)

deploy-benchmark: setup ## Our deploy vs the architecture's deploy.sh under load, on the demo host (after make demo)
	python tests/deploy/benchmark.py

deploy-memory: setup ## Peak memory by process of a lockfile-changing deploy + PDF renders under load, on the demo host
	python tests/deploy/memory.py

task-benchmark: setup images ## Seconds per Ansible task on an emulated arm64 container, bytecode cache off vs on
	python tests/harness/task_benchmark.py

setup: ## Create .venv (pinned toolchain) and .venv-scan (checkov, bandit); a no-op when current
	@bash tests/harness/venv.sh
	@bash tests/harness/venv.sh scan

engine: ## Start the Docker engine and arm64 emulation if needed
	@bash tests/harness/docker-engine.sh
	@bash tests/harness/arm64-emulation.sh

images: engine ## Build the local Debian 12 systemd base image for ARCH (cached by content)
	@bash tests/harness/base-image.sh $(ARCH) >/dev/null

lint: setup ## yamllint, ansible-lint (production profile), ansible-test sanity, checkov and bandit
	python tests/harness/run_tests.py yamllint ansible-lint sanity scan

unit: setup ## Unit tests of the Python modules
	python tests/harness/run_tests.py unit

provision-test: setup ## The provisioning suite against the AWS emulator (moto)
	python tests/harness/run_tests.py provision

molecule: setup images ## Molecule scenarios; one: make molecule SCENARIO=redis [ARCH=amd64]
	$(if $(SCENARIO),molecule test -s $(SCENARIO),python tests/harness/run_tests.py molecule)

test: setup images ## The whole test suite, what CI runs; ends with "N passed, N failed"
	python tests/harness/run_tests.py

lock: ## Re-resolve requirements.in into requirements.txt in a clean venv
	bash tests/harness/lock.sh
