#!/usr/bin/env python3
"""Inputs and report of the steady-rate load test (benches/load/steady.sh).

    steady.py inputs OUT_DIR BASE_URL   writes search.txt, autocomplete.txt (one URL per line),
                                        match-N.json (requests for information) and vendors.jsonl
    steady.py report OUT_DIR            prints the per-minute table from oha's JSON and rss.tsv

Reads the shared data: Home Depot judged queries and WANDS queries (search and keystrokes),
GeoNames cities (vendor locations and match locations). Deterministic (fixed seed).
"""

import csv
import glob
import gzip
import io
import json
import os
import random
import sys
import urllib.parse

SHARED = os.environ.get("SEARCHD_SHARED_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
CATEGORIES = [
    "Industrial/Machining", "Industrial/Sheet Metal", "Industrial/Welding", "Tools/Power Tools",
    "Tools/Hand Tools", "Building/Plumbing", "Building/Electrical", "Garden/Irrigation", "Home/Furniture",
    "Packaging/Boxes",
]
CAPABILITIES = {
    "Industrial/Machining": "CNC milling and turning of aluminium, steel and brass; prototypes and series",
    "Industrial/Sheet Metal": "laser cutting, bending and powder coating of sheet metal parts",
    "Industrial/Welding": "MIG and TIG welding of steel frames, stainless tanks and railings",
    "Tools/Power Tools": "repair and rental of cordless drills, saws and grinders",
    "Tools/Hand Tools": "forged hammers, wrenches and pliers, custom tool sets",
    "Building/Plumbing": "pipe fitting, bathroom installation, water heaters",
    "Building/Electrical": "wiring, lighting installation, switchboards and EV chargers",
    "Garden/Irrigation": "drip irrigation systems, garden hoses, sprinklers and pumps",
    "Home/Furniture": "solid wood tables, chairs and cabinets made to measure",
    "Packaging/Boxes": "corrugated boxes, printed cartons and pallets",
}


def queries():
    seen, out = set(), []
    with gzip.open(os.path.join(SHARED, "homedepot/judgments-dev.csv.gz"), "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            q = row["query"].strip()
            if q and q not in seen:
                seen.add(q)
                out.append(q)
    with open(os.path.join(SHARED, "wands_queries_only/query.csv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            q = cols[1].strip() if len(cols) > 1 else ""
            if q and q not in seen:
                seen.add(q)
                out.append(q)
    return out


def cities():
    with gzip.open(os.path.join(SHARED, "geonames_cities/cities15000.tsv.gz"), "rt", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [(r["name"], float(r["latitude"]), float(r["longitude"]), int(r["population"] or 0)) for r in rows]


def inputs(out, base):
    rng = random.Random(20261122)
    qs = queries()
    with open(os.path.join(out, "search.txt"), "w") as f:
        for q in qs:
            enc = urllib.parse.quote(q)
            f.write(f"{base}/v1/products/search?q={enc}\n")
            f.write(f"{base}/v1/products/search?q={enc}&facets=brand,category&highlight=true\n")
            f.write(f"{base}/v1/products/search?q={enc}&page=2&per_page=10\n")
            f.write(f"{base}/v1/products/search?q={enc}&sort=price_asc&price_max={rng.choice([25, 50, 100, 500])}\n")
    with open(os.path.join(out, "autocomplete.txt"), "w") as f:
        for q in qs:
            for end in range(1, len(q) + 1):
                f.write(f"{base}/v1/autocomplete?q={urllib.parse.quote(q[:end])}\n")
    places = [c for c in cities() if c[3] >= 50_000]
    rng.shuffle(places)
    with open(os.path.join(out, "vendors.jsonl"), "w") as f:
        for i, (name, lat, lon, _) in enumerate(places[:5000]):
            cats = rng.sample(CATEGORIES, rng.randint(1, 3))
            vendor = {
                "id": f"v-{i}", "name": f"{name} {cats[0].split('/')[1]} Works {i}", "categories": cats,
                "capabilities": "; ".join(CAPABILITIES[c] for c in cats),
                "location": {"lat": lat, "lon": lon}, "service_radius_km": rng.choice([50, 100, 250, 500, 1000]),
                "rating": round(rng.uniform(2.5, 5.0), 1), "review_count": rng.randint(0, 400),
                "response_time_hours": rng.choice([2, 6, 12, 24, 48]), "available": rng.random() < 0.8,
                "languages": ["en"],
            }
            f.write(json.dumps(vendor) + "\n")
    for i, (name, lat, lon, _) in enumerate(places[5000:5010]):
        cat = rng.choice(CATEGORIES)
        rfi = {
            "category": cat, "description": CAPABILITIES[cat].split(";")[0].split(",")[0] + f" near {name}",
            "location": {"lat": lat, "lon": lon}, "max_distance_km": 800, "quantity": 100, "limit": 10,
        }
        with open(os.path.join(out, f"match-{i}.json"), "w") as f:
            json.dump(rfi, f)
    print(f"{len(qs)} queries, {sum(1 for _ in open(os.path.join(out, 'autocomplete.txt')))} keystrokes, "
          f"{min(5000, len(places))} vendors, 10 match requests")


def report(out):
    rss = {}
    with open(os.path.join(out, "rss.tsv")) as f:
        for line in f:
            minute, kib = line.split()
            rss[int(minute)] = int(kib) / 1024
    rows, totals = [], {"requests": 0, "5xx": 0, "other": 0, "cut": 0}
    for minute in sorted({int(p.split("-")[-1].split(".")[0]) for p in glob.glob(os.path.join(out, "oha-*-*.json"))}):
        cells = [str(minute)]
        for kind in ["search", "autocomplete", "match"]:
            with open(os.path.join(out, f"oha-{kind}-{minute}.json")) as f:
                d = json.load(f)
            codes = {int(k): v for k, v in (d.get("statusCodeDistribution") or {}).items()}
            n = sum(codes.values())
            totals["requests"] += n
            totals["5xx"] += sum(v for k, v in codes.items() if k >= 500)
            totals["other"] += sum(v for k, v in codes.items() if k != 200 and k < 500)
            for error, count in (d.get("errorDistribution") or {}).items():
                # Requests in flight when oha's 60 s end: cut by the client, not failed.
                totals["cut" if "deadline" in error else "other"] += count
            p = d["latencyPercentiles"]
            cells.append(f"{n} / {p['p50'] * 1e3:.2f} / {p['p99'] * 1e3:.2f}")
        cells.append(f"{rss.get(minute, float('nan')):.0f}")
        rows.append(cells)
    print("| minute | search: requests / p50 ms / p99 ms | autocomplete | vendor match | RSS MiB |")
    print("| --- | --- | --- | --- | --- |")
    for cells in rows:
        print("| " + " | ".join(cells) + " |")
    print(
        f"\n{totals['requests']} answers, {totals['5xx']} 5xx, {totals['other']} other non-200 answers or socket errors, "
        f"{totals['cut']} requests in flight when a minute's oha run ended"
    )


if __name__ == "__main__":
    if sys.argv[1] == "inputs":
        inputs(sys.argv[2], sys.argv[3])
    else:
        report(sys.argv[2])
