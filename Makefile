# The two commands of the README: `make demo` runs the product, `make test` runs every test.
.PHONY: setup demo test lint bench-load bench-tiles clean-db

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

bench-tiles: setup
	.venv/bin/python bench/tiles.py

clean-db:
	-.venv/bin/zhengtu db stop
	rm -rf .zhengtu
