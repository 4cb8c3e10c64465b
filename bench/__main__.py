"""``python -m bench NAME|all (see BENCHES)``."""

from __future__ import annotations

import importlib
import sys

BENCHES = {
    "ingest": "bench.ingest",
    "fingerprints": "bench.fingerprints",
    "bigfeed": "bench.bigfeed",
    "summaries": "bench.summaries",
    "stories": "bench.stories",
    "topics": "bench.topics",
    "search": "bench.search",
    "fanout": "bench.fanout",
    "retry": "bench.retry",
    "soak": "bench.soak",
    "chaos": "bench.chaos",
    "scaling": "bench.scaling",
    "regex": "bench.regex",
    "html": "bench.html",
    "save": "bench.save",
    "fetch": "bench.fetch",
}


def main(argv: list[str]) -> int:
    """Run the named benchmarks in order."""
    names = argv or ["all"]
    if names == ["all"]:
        names = list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {sorted(BENCHES)} or all")
        return 2
    code = 0
    for name in names:
        try:
            module = importlib.import_module(BENCHES[name])
        except ModuleNotFoundError as e:
            print(f"{name}: not available ({e})")
            code = 1
            continue
        code |= module.main()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
