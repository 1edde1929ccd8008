"""Calibration figures of the effect estimate (docs/effect.md): coverage of the 95% interval and
mean bias over SIMULATED panels with a known effect, for the Poisson headline, the OLS estimate
and the raw before/after. Usage: .venv/bin/python benchmarks/effect_calibration.py [--reps 400]"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from listing.simulation.panels import calibrate

    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--listings", type=int, nargs="*", default=[20, 7, 3])
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    print(f"{'listings':>8} {'effect':>7} {'used':>5} {'model':>8} {'coverage':>9} {'bias':>7} {'width':>6}  (reps={args.reps})")
    for listings in args.listings:
        for effect in (0.0, -0.30):
            started = time.perf_counter()
            c = calibrate(effect, listings=listings, reps=args.reps)
            for model in ("poisson", "ols", "raw"):
                m = c[model]
                cov = "-" if m["coverage"] is None else f"{m['coverage']:.3f}"
                width = "-" if m["median_width"] is None else f"{m['median_width']:.2f}"
                print(f"{listings:>8} {effect:>+7.2f} {c['listings_used']:>5.1f} {model:>8} {cov:>9} {m['bias']:>+7.3f} {width:>6}",
                      flush=True)
            print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
