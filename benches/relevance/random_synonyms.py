#!/usr/bin/env python3
"""A synonym list for measuring cost, not relevance: 1,000 sets pairing the catalog's most
frequent title words at random (every fifth set with a two-word phrase, every seventh one-way),
so that a large share of queries expand.

    python3 benches/relevance/random_synonyms.py ../shared/data/homedepot/products.csv.gz > syn1000.json
    searchd --data-dir hd eval --judgments judgments-dev.csv.gz --settings syn1000.json --ranking phase1
"""
import collections
import csv
import gzip
import json
import random
import re
import sys

random.seed(7)
counts = collections.Counter()
with gzip.open(sys.argv[1], "rt", encoding="utf-8", errors="replace") as f:
    for row in csv.DictReader(f):
        counts.update(re.findall(r"[a-z]{3,}", row["title"].lower()))
words = [w for w, _ in counts.most_common(3000)]
random.shuffle(words)
sets, i = [], 0
while len(sets) < 1000:
    a, b = words[i], words[i + 1]
    i += 2
    if len(sets) % 5 == 0:
        sets.append({"synonyms": [a, f"{b} {words[i]}"]})
        i += 1
    elif len(sets) % 7 == 0:
        sets.append({"input": a, "synonyms": [b]})
    else:
        sets.append({"synonyms": [a, b]})
json.dump({"synonyms": sets}, sys.stdout)
