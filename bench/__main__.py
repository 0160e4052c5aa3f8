"""`make bench`: run every benchmark in one process and print its figures (and bench/results/latest.json)."""
from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from bench import cycles, foresight, foundation, imports, load, matrix, onboarding, profiles, questionnaire

# In this order: the read-only benchmarks first, then those that write (a cycle, a snapshot date, load).
STAGES = ("profiles", "questionnaire", "matrix", "foresight", "cycles", "imports", "load", "onboarding")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=int(os.environ.get("BENCH_CLIENTS", 1_000_000)))
    parser.add_argument("--managers", type=int, default=int(os.environ.get("BENCH_MANAGERS", 10_000)))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 10)))
    parser.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""),
                        help="comma-separated stages to run after seeding: " + ", ".join(STAGES))
    args = parser.parse_args()
    chosen = [stage.strip() for stage in args.only.split(",") if stage.strip()] or list(STAGES)
    figures: dict[str, dict] = {}

    def report(key: str, value, label: str) -> None:
        figures[key] = {"value": value, "label": label}
        print(f"{label:<70} {value}", flush=True)

    if os.environ.get("BENCH_REUSE"):
        # Iterating on one stage: the database a previous run seeded is used as it is (no seed, no book load).
        from bench.harness import database_url
        url = database_url("portal_bench")
    else:
        url = foundation.run(report, args.clients, args.managers, args.seconds)
    runners = {
        "profiles": lambda: profiles.run(report, url),
        "questionnaire": lambda: questionnaire.run(report, url, args.seconds),
        "matrix": lambda: matrix.run(report, url),
        "foresight": lambda: foresight.run(report, url),
        "cycles": lambda: cycles.run(report, url),
        "imports": lambda: imports.run(report, url),
        "load": lambda: load.run(report, url),
        "onboarding": lambda: onboarding.run(report, url),  # a database of its own
    }
    for stage in STAGES:
        if stage in chosen:
            runners[stage]()
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps({"at": datetime.now(UTC).isoformat(), "args": vars(args),
                                                 "figures": figures}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
