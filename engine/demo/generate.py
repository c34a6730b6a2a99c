#!/usr/bin/env python3
"""Writes products.jsonl, vendors.jsonl and offers.jsonl, the demo catalog that `searchd serve --demo` loads.

The catalog is written by the project: product lines, brands and texts below are ours, combined
deterministically (no randomness, no external data) into a few hundred products in English,
German, French and Spanish. Run `python3 engine/demo/generate.py` after editing it.
"""
import json
import os

# (category path, language, product noun/title pattern, description pattern, brands, base price)
# Patterns use {brand}, {model}, {variant}.
LINES = [
    # Tools
    (["Tools", "Power Tools", "Drills"], "en", "{brand} {model} Cordless Drill Driver {variant}",
     "Compact cordless drill driver with a brushless motor, two-speed gearbox and LED work light. {variant} for drilling in wood, metal and masonry.",
     ["Bosch", "Makita", "DeWalt", "Milwaukee"], 129.0,
     ["18V with 2 Batteries", "12V Kit", "20V Max Bare Tool", "18V with Charger and Case"]),
    (["Tools", "Power Tools", "Drills"], "de", "{brand} {model} Akku-Bohrschrauber {variant}",
     "Kompakter Akku-Bohrschrauber mit bürstenlosem Motor, Zwei-Gang-Getriebe und LED-Arbeitslicht. {variant} zum Bohren in Holz, Metall und Mauerwerk.",
     ["Bosch", "Makita", "Metabo", "Festool"], 139.0,
     ["18V mit 2 Akkus", "12V Set", "18V ohne Akku", "18V mit Ladegerät und Koffer"]),
    (["Tools", "Power Tools", "Saws"], "en", "{brand} {model} Circular Saw {variant}",
     "Powerful circular saw with a carbide-tipped blade, bevel adjustment up to 56 degrees and dust extraction port. {variant}.",
     ["Makita", "DeWalt", "Skil", "Ryobi"], 99.0,
     ["7-1/4 in. Corded", "18V Brushless", "6-1/2 in. Compact", "with Laser Guide"]),
    (["Tools", "Power Tools", "Saws"], "fr", "{brand} {model} Scie circulaire {variant}",
     "Scie circulaire puissante avec lame au carbure, réglage de l'inclinaison jusqu'à 45 degrés et raccord d'aspiration. {variant}.",
     ["Bosch", "Makita", "Einhell", "Ryobi"], 109.0,
     ["1400 W filaire", "18 V sans fil", "compacte 165 mm", "avec guide laser"]),
    (["Tools", "Hand Tools", "Hammers"], "en", "{brand} {model} Claw Hammer {variant}",
     "Balanced claw hammer with a forged steel head and shock-absorbing grip. {variant} for framing and general carpentry.",
     ["Estwing", "Stanley", "Vaughan", "Stiletto"], 24.0,
     ["16 oz.", "20 oz. Rip Claw", "22 oz. Framing", "12 oz. Finishing"]),
    (["Tools", "Hand Tools", "Screwdrivers"], "es", "{brand} {model} Juego de destornilladores {variant}",
     "Juego de destornilladores con puntas magnéticas de acero al cromo vanadio y mango ergonómico antideslizante. {variant}.",
     ["Stanley", "Bahco", "Wera", "Wiha"], 29.0,
     ["6 piezas", "12 piezas de precisión", "aislados 1000 V", "con estuche"]),
    # Kitchen
    (["Kitchen", "Coffee", "Espresso Machines"], "en", "{brand} {model} Espresso Machine {variant}",
     "Espresso machine with a 15-bar pump, steam wand for milk foam and a removable water tank. {variant}.",
     ["De'Longhi", "Breville", "Gaggia", "Sage"], 249.0,
     ["with Milk Frother", "Bean to Cup", "Stainless Steel", "Compact Manual"]),
    (["Kitchen", "Coffee", "Espresso Machines"], "fr", "{brand} {model} Machine à café expresso {variant}",
     "Machine à café expresso avec pompe 15 bars, buse vapeur pour la mousse de lait et réservoir d'eau amovible. {variant}, idéale pour un café crème.",
     ["De'Longhi", "Krups", "Philips", "Gaggia"], 259.0,
     ["avec mousseur à lait", "broyeur intégré", "en acier inoxydable", "compacte manuelle"]),
    (["Kitchen", "Coffee", "Espresso Machines"], "de", "{brand} {model} Kaffeevollautomat {variant}",
     "Kaffeevollautomat mit Kegelmahlwerk, Milchaufschäumer und herausnehmbarer Brühgruppe. {variant} für Espresso, Cappuccino und Café Crème.",
     ["De'Longhi", "Jura", "Siemens", "Melitta"], 449.0,
     ["mit Milchsystem", "Edelstahl", "mit App-Steuerung", "kompakt"]),
    (["Kitchen", "Cookware", "Pans"], "en", "{brand} {model} Non-Stick Frying Pan {variant}",
     "Non-stick frying pan with a triple-layer coating, induction-ready base and stay-cool handle. {variant}.",
     ["Tefal", "Le Creuset", "Lodge", "Zwilling"], 39.0,
     ["10 in.", "12 in. with Lid", "8 in.", "Set of 2"]),
    (["Kitchen", "Cookware", "Pans"], "es", "{brand} {model} Sartén antiadherente {variant}",
     "Sartén antiadherente con revestimiento de triple capa, base apta para inducción y mango que no se calienta. {variant}.",
     ["Tefal", "BRA", "Magefesa", "Lacor"], 34.0,
     ["24 cm", "28 cm con tapa", "20 cm", "juego de 3"]),
    (["Kitchen", "Knives", "Chef Knives"], "de", "{brand} {model} Kochmesser {variant}",
     "Geschmiedetes Kochmesser aus rostfreiem Stahl mit ergonomischem Griff und präzisem Schliff. {variant}.",
     ["Zwilling", "WMF", "Wüsthof", "Victorinox"], 59.0,
     ["20 cm", "Santoku 18 cm", "mit Messerblock", "Damast 21 cm"]),
    # Outdoor
    (["Outdoor", "Camping", "Tents"], "en", "{brand} {model} Camping Tent {variant}",
     "Waterproof dome tent with a fast-pitch frame, taped seams and a vestibule for gear. {variant}.",
     ["Coleman", "The North Face", "MSR", "Vango"], 149.0,
     ["2-Person", "4-Person Family", "Ultralight 1-Person", "6-Person with Screen Room"]),
    (["Outdoor", "Camping", "Tents"], "de", "{brand} {model} Zelt {variant}",
     "Wasserdichtes Kuppelzelt mit schnellem Aufbau, verschweißten Nähten und Apsis für Gepäck. {variant}.",
     ["Vaude", "Jack Wolfskin", "Nordisk", "Hilleberg"], 179.0,
     ["für 2 Personen", "Familienzelt 4 Personen", "ultraleicht", "Tunnelzelt 3 Personen"]),
    (["Outdoor", "Bags", "Backpacks"], "en", "{brand} {model} Hiking Backpack {variant}",
     "Hiking backpack with an adjustable back system, hip belt pockets and an integrated rain cover. {variant}.",
     ["Fjällräven", "Osprey", "Deuter", "Gregory"], 119.0,
     ["28 L", "40 L", "65+10 L Trekking", "20 L Daypack"]),
    (["Outdoor", "Bags", "Backpacks"], "fr", "{brand} {model} Sac à dos de randonnée {variant}",
     "Sac à dos de randonnée avec dos réglable, poches sur la ceinture et housse de pluie intégrée. {variant}.",
     ["Fjällräven", "Quechua", "Millet", "Lafuma"], 89.0,
     ["28 L", "40 L", "trekking 60 L", "journée 20 L"]),
    (["Outdoor", "Clothing", "Jackets"], "en", "{brand} {model} Rain Jacket {variant}",
     "Breathable waterproof rain jacket with a helmet-compatible hood, pit zips and packable design. {variant}.",
     ["Patagonia", "Arc'teryx", "The North Face", "Columbia"], 159.0,
     ["Men's", "Women's", "Men's Insulated", "Women's Lightweight"]),
    (["Outdoor", "Clothing", "Jackets"], "es", "{brand} {model} Chaqueta impermeable {variant}",
     "Chaqueta impermeable y transpirable con capucha ajustable, cremalleras de ventilación y diseño plegable. {variant}.",
     ["Columbia", "Ternua", "Trangoworld", "The North Face"], 129.0,
     ["para hombre", "para mujer", "acolchada para hombre", "ligera para mujer"]),
    # Electronics
    (["Electronics", "Audio", "Headphones"], "en", "{brand} {model} Wireless Noise Cancelling Headphones {variant}",
     "Over-ear Bluetooth headphones with active noise cancellation, 30-hour battery life and a built-in microphone for calls. {variant}.",
     ["Sony", "Bose", "Sennheiser", "JBL"], 199.0,
     ["Black", "Silver", "Midnight Blue", "with Travel Case"]),
    (["Electronics", "Audio", "Headphones"], "de", "{brand} {model} Kabellose Kopfhörer {variant}",
     "Over-Ear Bluetooth-Kopfhörer mit aktiver Geräuschunterdrückung, 30 Stunden Akkulaufzeit und Mikrofon für Anrufe. {variant}.",
     ["Sony", "Bose", "Sennheiser", "Beyerdynamic"], 219.0,
     ["Schwarz", "Silber", "Blau", "mit Reiseetui"]),
    (["Electronics", "Audio", "Speakers"], "fr", "{brand} {model} Enceinte Bluetooth portable {variant}",
     "Enceinte Bluetooth étanche avec son à 360 degrés, basses puissantes et 20 heures d'autonomie. {variant}.",
     ["JBL", "Bose", "Ultimate Ears", "Marshall"], 129.0,
     ["noire", "bleue", "avec micro", "format mini"]),
    (["Electronics", "Smart Home", "Lighting"], "en", "{brand} {model} Smart LED Bulb {variant}",
     "Dimmable Wi-Fi LED bulb with 16 million colors, voice assistant support and schedules in the app. {variant}.",
     ["Philips Hue", "LIFX", "TP-Link Kasa", "Govee"], 19.0,
     ["E26 Color", "4-Pack White", "GU10 Spot", "Starter Kit with Bridge"]),
    # Home
    (["Home", "Furniture", "Sofas"], "en", "{brand} {model} Sofa {variant}",
     "Comfortable sofa with high-resilience foam cushions, solid wood legs and removable washable covers. {variant}.",
     ["IKEA", "Article", "West Elm", "Burrow"], 699.0,
     ["3-Seat Grey", "2-Seat Velvet Green", "Sectional with Chaise", "Sleeper Sofa"]),
    (["Home", "Furniture", "Sofas"], "de", "{brand} {model} Sofa {variant}",
     "Bequemes Sofa mit formstabilen Schaumstoffkissen, Füßen aus Massivholz und abnehmbaren, waschbaren Bezügen. {variant}.",
     ["IKEA", "Musterring", "Koinor", "Hülsta"], 749.0,
     ["3-Sitzer Grau", "2-Sitzer Samt Grün", "Ecksofa mit Recamiere", "Schlafsofa"]),
    (["Home", "Lighting", "Lamps"], "fr", "{brand} {model} Lampe de bureau LED {variant}",
     "Lampe de bureau LED à intensité variable avec bras articulé, port USB de charge et trois températures de couleur. {variant}.",
     ["Philips", "IKEA", "Leroy Merlin", "Lumisky"], 39.0,
     ["noire", "blanche", "en bois", "avec chargeur sans fil"]),
    (["Home", "Lighting", "Lamps"], "es", "{brand} {model} Lámpara de pie {variant}",
     "Lámpara de pie de diseño nórdico con pantalla de tela, base estable y regulador de intensidad. {variant}.",
     ["IKEA", "Philips", "Lumisky", "Kave Home"], 79.0,
     ["negra", "de madera", "con tres brazos", "arco moderna"]),
]

MODELS = ["Pro", "X", "Plus", "Lite", "Max"]

# Attributes: colours and materials by department, the voltage a variant names, a warranty.
COLOURS = ["black", "grey", "blue", "red", "green", "white", "silver"]
MATERIALS = {
    "Tools": ["steel", "composite"],
    "Kitchen": ["stainless steel", "aluminium", "ceramic"],
    "Outdoor": ["nylon", "polyester"],
    "Electronics": ["plastic", "aluminium"],
    "Home": ["wood", "fabric", "metal"],
}


def attributes(category, line_no, b, v, variant):
    """The product's attributes, deterministically: colour, material, voltage (when the variant
    names one), warranty in years."""
    import re
    out = {
        "colour": COLOURS[(line_no * 3 + b * 2 + v) % len(COLOURS)],
        "material": MATERIALS[category[0]][(b + v) % len(MATERIALS[category[0]])],
        "warranty_years": 1 + (line_no + b + v) % 3,
    }
    volts = re.search(r"(\d+)\s?V\b", variant)
    if volts:
        out["voltage"] = int(volts.group(1))
    return out

# Demo vendors: cities (name, country, lat, lon) and what the vendors there supply. Coordinates
# are the cities' well-known centres; Suva and Auckland put vendors near the antimeridian.
CITIES = [
    ("New York", "US", 40.7128, -74.0060), ("Chicago", "US", 41.8781, -87.6298),
    ("Los Angeles", "US", 34.0522, -118.2437), ("Houston", "US", 29.7604, -95.3698),
    ("Atlanta", "US", 33.7490, -84.3880), ("Seattle", "US", 47.6062, -122.3321),
    ("Toronto", "CA", 43.6532, -79.3832), ("Mexico City", "MX", 19.4326, -99.1332),
    ("London", "GB", 51.5074, -0.1278), ("Manchester", "GB", 53.4808, -2.2426),
    ("Paris", "FR", 48.8566, 2.3522), ("Lyon", "FR", 45.7640, 4.8357),
    ("Marseille", "FR", 43.2965, 5.3698), ("Berlin", "DE", 52.5200, 13.4050),
    ("Munich", "DE", 48.1351, 11.5820), ("Hamburg", "DE", 53.5511, 9.9937),
    ("Cologne", "DE", 50.9375, 6.9603), ("Madrid", "ES", 40.4168, -3.7038),
    ("Barcelona", "ES", 41.3874, 2.1686), ("Valencia", "ES", 39.4699, -0.3763),
    ("Milan", "IT", 45.4642, 9.1900), ("Amsterdam", "NL", 52.3676, 4.9041),
    ("Vienna", "AT", 48.2082, 16.3738), ("Zurich", "CH", 47.3769, 8.5417),
    ("Stockholm", "SE", 59.3293, 18.0686), ("Mumbai", "IN", 19.0760, 72.8777),
    ("Bengaluru", "IN", 12.9716, 77.5946), ("Tokyo", "JP", 35.6762, 139.6503),
    ("Singapore", "SG", 1.3521, 103.8198), ("Sydney", "AU", -33.8688, 151.2093),
    ("Auckland", "NZ", -36.8485, 174.7633), ("Suva", "FJ", -18.1248, 178.4501),
]
SUPPLIES = [
    ("Tools/Power Tools", "power tools", "Repairs and services cordless drills, saws and sanders; batteries and spare parts in stock", ["repairs", "power-tools"]),
    ("Tools/Hand Tools", "hand tools", "Hammers, screwdrivers and tool sets for trade customers; custom engraving", ["trade", "engraving"]),
    ("Kitchen/Coffee", "espresso machines and coffee", "Sells and services espresso machines and grinders; descaling, barista training", ["barista", "service"]),
    ("Kitchen/Cookware", "cookware", "Pans, pots and induction cookware for restaurants and homes", ["horeca", "wholesale"]),
    ("Kitchen/Knives", "knives", "Chef knives and professional sharpening service", ["sharpening"]),
    ("Electronics/Audio", "audio equipment", "Headphones, speakers and sound systems; installation for shops and events", ["installation", "events"]),
    ("Electronics/Smart Home", "smart home devices", "Installs smart thermostats, lighting and security cameras", ["installation"]),
    ("Home/Furniture", "furniture", "Custom furniture, assembly and delivery; office fit-outs", ["assembly", "delivery"]),
    ("Home/Lighting", "lighting", "Lamps and lighting design for homes, shops and hotels", ["design"]),
    ("Outdoor/Camping", "camping gear", "Tents, sleeping bags and camping equipment; rental for groups", ["rental"]),
    ("Outdoor/Clothing", "outdoor clothing", "Waterproof jackets and hiking clothing; team and corporate orders", ["corporate"]),
    ("Outdoor/Bags", "bags and backpacks", "Backpacks and travel bags; repairs and custom prints", ["repairs", "custom-print"]),
]
# The texts are English, so English comes first (the first language picks the stemmer).
LANGS = {"FR": ["en", "fr"], "DE": ["en", "de"], "AT": ["en", "de"], "CH": ["en", "de", "fr"], "ES": ["en", "es"], "MX": ["en", "es"]}


def vendors():
    out = []
    n = 0
    for c, (city, country, lat, lon) in enumerate(CITIES):
        for k in range(4):
            n += 1
            s = (c * 5 + k * 7) % len(SUPPLIES)
            path, what, capabilities, tags = SUPPLIES[s]
            second = SUPPLIES[(s + 1 + c) % len(SUPPLIES)] if (c + k) % 3 == 0 else None
            # A second supply that is the first one again would list its category and text twice.
            if second is not None and second[0] == path:
                second = None
            # Spread vendors over a city: up to about 8 km from its centre.
            dlat = ((c * 13 + k * 29) % 15 - 7) / 100.0
            dlon = ((c * 17 + k * 31) % 15 - 7) / 100.0
            radius = [15, 40, 120, 600][(c + k) % 4]
            vendor = {
                "id": f"vendor-{n:03d}",
                "name": f"{city} {what.split(' and ')[0].title()} {['Supply', 'Works', 'Co.', 'Depot'][k]}",
                "description": f"Supplier of {what} in {city}" + (f", also {second[1]}" if second else ""),
                "categories": [path] + ([second[0]] if second else []),
                "capabilities": capabilities + (f"; {second[2].lower()}" if second else ""),
                "tags": tags,
                "location": {"lat": round(lat + dlat, 4), "lon": round(lon + dlon, 4)},
                "service_radius_km": radius,
                "rating": round(3.0 + ((c * 7 + k * 11) % 21) / 10.0, 1),
                "review_count": (c * 37 + k * 53) % 400,
                "response_time_hours": [2, 4, 12, 24, 48][(c + 2 * k) % 5],
                "available": (c + k) % 6 != 5,
                "languages": LANGS.get(country, ["en"]),
                "updated_at": f"2026-{(n % 10) + 1:02d}-{(n % 27) + 1:02d}T09:00:00Z",
                # Declared by a fresh demo data dir: filterable in vendor search and matching.
                "attributes": {
                    "certifications": [name for bit, name in enumerate(["iso-9001", "iso-14001", "ce"]) if (c + k * 3) >> bit & 1],
                    "payment_terms": ["net-30", "net-60", "prepaid"][(c * 2 + k) % 3],
                    "min_order": [0, 50, 250, 1000][(c + 3 * k) % 4],
                },
            }
            out.append(vendor)
    return out


# How a description names a variant that is a sentence of its own.
VARIANT_LABELS = {"en": "Variant:", "fr": "Version :", "de": "Ausführung:", "es": "Versión:"}


def description(template, lang, brand, model, variant):
    """The description without fragments: a variant that is a sentence of its own is labelled
    ("Version : blanche." rather than "blanche."), one that starts a sentence is capitalised, and
    no sentence ends in two full stops."""
    if template.endswith(" {variant}."):
        template = template[: -len("{variant}.")] + VARIANT_LABELS[lang] + " {variant}."
        variant = variant.rstrip(".")
    elif ". {variant}" in template:
        variant = variant[:1].upper() + variant[1:]
    return template.format(brand=brand, model=model, variant=variant)


def main():
    out = []
    n = 0
    for line_no, (category, lang, title_p, desc_p, brands, base, variants) in enumerate(LINES):
        for b, brand in enumerate(brands):
            for v, variant in enumerate(variants):
                if (b + v + line_no) % 4 == 3:  # not every brand makes every variant
                    continue
                n += 1
                model = f"{MODELS[(b * 3 + v + line_no) % len(MODELS)]}{(line_no * 7 + b * 5 + v * 3) % 90 + 10}"
                price = round(base * (0.8 + 0.15 * v + 0.07 * b) - 0.01, 2)
                rating = round(3.2 + ((line_no * 13 + b * 7 + v * 5) % 18) / 10.0, 1)
                reviews = (line_no * 97 + b * 41 + v * 29) % 1800 + 3
                popularity = float((line_no * 131 + b * 17 + v * 53) % 5000)
                product = {
                    "id": f"demo-{n:04d}",
                    "title": title_p.format(brand=brand, model=model, variant=variant),
                    "description": description(desc_p, lang, brand, model, variant),
                    "brand": brand,
                    "category": category,
                    "price": price,
                    "currency": "EUR" if lang in ("de", "fr", "es") else "USD",
                    "rating": min(rating, 5.0),
                    "review_count": reviews,
                    "popularity": popularity,
                    "in_stock": (n % 9) != 0,
                    "language": lang,
                    "updated_at": f"2026-{(n % 10) + 1:02d}-{(n % 27) + 1:02d}T09:00:00Z",
                    "attributes": attributes(category, line_no, b, v, variant),
                }
                out.append(product)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "products.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for p in out:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    print(f"{len(out)} products written to {path}")
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vendors.jsonl")
    demo_vendors = vendors()
    with open(path, "w", encoding="utf-8") as f:
        for v in demo_vendors:
            f.write(json.dumps(v, ensure_ascii=False) + "\n")
    print(f"{len(demo_vendors)} vendors written to {path}")
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "offers.jsonl")
    demo_offers = offers(out, demo_vendors)
    with open(path, "w", encoding="utf-8") as f:
        for o in demo_offers:
            f.write(json.dumps(o, ensure_ascii=False) + "\n")
    print(f"{len(demo_offers)} offers written to {path}")
    write_cities()


def offers(products, vendors):
    """Each vendor offers every third product of its categories (a different third per vendor),
    around the product's price, mostly in stock, shipping within 0 to 9 days."""
    out = []
    for i, v in enumerate(vendors):
        for path in v["categories"]:
            for j, p in enumerate(products):
                if "/".join(p["category"][:2]) != path or (i + j) % 3 != 0:
                    continue
                k = len(out)
                out.append({
                    "id": f"offer-{k + 1:05d}",
                    "product_id": p["id"],
                    "vendor_id": v["id"],
                    "price": round(p["price"] * (0.85 + ((i * 7 + j * 3) % 31) / 100.0), 2),
                    "currency": p["currency"],
                    "stock": 0 if (i + j) % 10 == 0 else (i * 13 + j * 5) % 40 + 1,
                    "condition": ["new", "new", "new", "new", "refurbished", "used"][(i + 2 * j) % 6],
                    "lead_time_days": (i * 3 + j) % 10,
                    "updated_at": "2026-11-20T09:00:00Z",
                })
    return out


def write_cities():
    """The demo cities, for the storefront page's vendor finder (city picker)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cities.json")
    cities = [{"name": city, "country": country, "lat": lat, "lon": lon} for city, country, lat, lon in CITIES]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cities, f, ensure_ascii=False, indent=0)
        f.write("\n")
    print(f"{len(cities)} cities written to {path}")


if __name__ == "__main__":
    main()
