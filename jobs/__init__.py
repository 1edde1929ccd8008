"""Scheduled work. Each job is a thin wiring of services for one period (a local day or
month), run under a (job, period) claim so it happens exactly once; see jobs/definitions.py."""
