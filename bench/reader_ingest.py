"""reader's ingest in a process of its own, as its users run it: ``python -m
bench.reader_ingest DB URLS`` adds every URL of the file URLS, then ``update_feeds()`` and
``update_search()``, and prints the entries it stored and the time of each step as JSON."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(db: str, urls_file: str) -> int:
    """Ingest every feed once, cold, into a new reader database."""
    from reader import make_reader  # the bench's dev extra; needs sgmllib3k on Python 3.11

    reader = make_reader(db)
    reader.enable_search()
    for url in Path(urls_file).read_text().split():
        reader.add_feed(url)
    start = time.perf_counter()
    reader.update_feeds()
    fed = time.perf_counter()
    reader.update_search()
    done = time.perf_counter()
    counts = {"entries": reader.get_entry_counts().total, "update_feeds_s": fed - start}
    print(json.dumps({**counts, "update_search_s": done - fed}))
    reader.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
