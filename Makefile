# Thin aliases for dev.py, which does the work (and needs no make).
.PHONY: run test lint serve ci bench

run:
	python3 dev.py run

test:
	python3 dev.py test $(ARGS)

lint:
	python3 dev.py lint

serve:
	python3 dev.py serve

ci:
	.ci/run

# The scale benchmark (bench/run.py); ARGS e.g. "--incidents 100000 --people 30000 --db postgres".
bench:
	python3 dev.py bench $(ARGS)
