# The two commands of the README: `make demo` runs the product, `make test` runs every test.
.PHONY: setup demo test lint bench-load bench-tiles bench-compare bench-import bench-draw bench-soak clean-db

ENTITIES ?= 200000
PORT ?= 8050

setup:
	bash scripts/setup.sh

demo: setup
	.venv/bin/zhengtu demo --entities $(ENTITIES) --port $(PORT)

test: setup
	.venv/bin/zhengtu db start
	.venv/bin/ruff check .
	.venv/bin/python -m pytest -q

lint: setup
	.venv/bin/ruff check .

bench-load: setup
	.venv/bin/python bench/load_entities.py

bench-import: setup
	.venv/bin/python bench/import_entities.py

bench-draw: setup
	.venv/bin/python bench/draw.py

bench-soak: setup
	.venv/bin/python bench/ops_soak.py --minutes $${MINUTES:-60}

bench-tiles: setup
	.venv/bin/python bench/tiles.py

bench-compare: setup
	test -x .venv-bench/bin/uvicorn || (python3 -m venv .venv-bench && .venv-bench/bin/pip install -q tipg uvicorn)
	.venv/bin/python bench/tile_compare.py

clean-db:
	-.venv/bin/zhengtu db stop
	rm -rf .zhengtu
