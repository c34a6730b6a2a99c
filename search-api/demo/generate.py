#!/usr/bin/env python3
"""Writes products.jsonl, the demo catalog that `searchd serve --demo` loads.

The catalog is written by the project: product lines, brands and texts below are ours, combined
deterministically (no randomness, no external data) into a few hundred products in English,
German, French and Spanish. Run `python3 search-api/demo/generate.py` after editing it.
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
                    "description": desc_p.format(brand=brand, model=model, variant=variant),
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
                }
                out.append(product)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "products.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for p in out:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    print(f"{len(out)} products written to {path}")


if __name__ == "__main__":
    main()
