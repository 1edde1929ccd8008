"""Officer load harness on PostgreSQL (not shipped with the product): run.py drives it, check.py verifies."""
