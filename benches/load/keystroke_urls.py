#!/usr/bin/env python3
"""Prints one autocomplete URL per keystroke of typing each query, for load tools that read a URL
list (oha --urls-from-file).

    python3 benches/load/keystroke_urls.py http://127.0.0.1:7700 QUERIES.tsv > keystrokes.txt

QUERIES.tsv: a header line, then tab-separated rows whose second column is the query (the WANDS
query.csv layout).
"""

import sys
import urllib.parse

base, path = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    next(f)
    for line in f:
        cols = line.rstrip("\n").split("\t")
        query = cols[1].strip() if len(cols) > 1 else ""
        for end in range(1, len(query) + 1):
            print(f"{base}/v1/autocomplete?q={urllib.parse.quote(query[:end])}")
