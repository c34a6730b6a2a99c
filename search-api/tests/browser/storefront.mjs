// Drives the storefront page in headless Chromium as a shopper would, and fails (exit 1, with a
// screenshot) when a step does not work:
//
//   node storefront.mjs BASE_URL SCREENSHOT_DIR [CHROMIUM]
//
// Steps: types a query letter by letter and picks a suggestion with the keyboard; presses Enter
// mid-word; searches a misspelt query corrected, then as typed; applies a brand facet, then a
// colour facet the settings declare (disjunctive) with the price span; keeps a faceted page 2 in the address through reload, Back and Forward;
// switches currency and filters prices within it; picks a language; opens a product and sees
// similar products; delivers to a city (best offers, a seller facet, a product's offers there);
// finds vendors near a city. Prints one line per step. Run by the Rust test `browser::storefront` (search-api/tests/browser.rs).
import { chromium } from "playwright-core";

const [base, shots, executablePath = "/usr/bin/chromium"] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node storefront.mjs BASE_URL SCREENSHOT_DIR [CHROMIUM]");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
  ],
});
const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
const requests = [];
const offsite = [];
const failures = [];
page.on("request", (r) => {
  requests.push(r);
  if (!r.url().startsWith(base)) offsite.push(r.url());
});
page.on("pageerror", (e) => failures.push(`page error: ${e.message}`));
page.on("console", (m) => { if (m.type() === "error") failures.push(`console error: ${m.text()}`); });

let step = "start";
const expect = (condition, message) => { if (!condition) throw new Error(message); };
const log = (message) => console.log(`ok ${step}: ${message}`);

try {
  step = "load";
  await page.goto(base + "/", { waitUntil: "networkidle" });
  await page.waitForSelector("#results li.hit");
  log(await page.textContent("#status"));

  step = "suggestions";
  const box = page.getByRole("combobox", { name: "Search products" });
  await box.click();
  // Letter by letter, as a shopper types; the page debounces and asks for suggestions.
  await box.pressSequentially("cordl", { delay: 90 });
  const listbox = page.getByRole("listbox", { name: "Suggestions" });
  await listbox.waitFor({ state: "visible" });
  const options = listbox.getByRole("option");
  await options.first().waitFor();
  const first = await options.first().innerHTML();
  expect(/<em>/i.test(first), `the suggestion highlights the match: ${first}`);
  const autocompleteCalls = requests.filter((r) => r.url().includes("/v1/autocomplete")).length;
  expect(autocompleteCalls >= 1 && autocompleteCalls < 5, `debounced: ${autocompleteCalls} autocomplete requests for 5 letters`);
  await box.press("ArrowDown");
  expect((await options.first().getAttribute("aria-selected")) === "true", "ArrowDown selects the first suggestion");
  expect((await box.getAttribute("aria-activedescendant")) === "suggestion-0", "the combobox points at it");
  const picked = (await options.first().locator(".text").textContent()).trim();
  await box.press("Enter");
  await listbox.waitFor({ state: "hidden" });
  log(`picked “${picked}” with the keyboard after ${autocompleteCalls} autocomplete requests`);
  // A product suggestion opens the product; close it to see the list.
  const dialog = page.locator("#product-dialog");
  if (await dialog.isVisible()) await page.keyboard.press("Escape");
  await page.waitForFunction(() => /products/.test(document.querySelector("#status").textContent));
  const status = await page.textContent("#status");
  expect(/\d+ products/.test(status), `results for the suggestion: ${status}`);
  log(status);

  step = "prefix";
  // Enter on a word still being typed searches it as the start of a word.
  await box.fill("cordl");
  await box.press("Enter");
  await page.waitForFunction(() => /for “cordl”/.test(document.querySelector("#status").textContent));
  const typed = await page.textContent("#status");
  expect(/^\d+ products/.test(typed), `Enter on “cordl” finds products: ${typed}`);
  const cordless = await page.locator("#results li.hit .hit-title").allTextContents();
  expect(cordless.length > 0 && cordless.every((t) => /\bcordl/i.test(t)), `every title has a word starting “cordl”: ${cordless}`);
  log(`${typed}; first “${cordless[0]}”`);

  step = "did you mean";
  // A misspelt query is searched corrected, with a way back to the query as typed.
  await box.fill("cordles drill");
  await box.press("Enter");
  await page.waitForFunction(() => /Showing results for/.test(document.querySelector("#did-you-mean").textContent));
  const corrected = await page.textContent("#did-you-mean");
  expect(/cordless drill/.test(corrected), `the correction is shown: ${corrected}`);
  const correctedHits = await page.locator("#results li.hit .hit-title").allTextContents();
  expect(correctedHits.length > 0 && /drill/i.test(correctedHits[0]), `the corrected query's hits: ${correctedHits}`);
  await page.locator("#did-you-mean button").click();
  await page.waitForFunction(() => /^Did you mean/.test(document.querySelector("#did-you-mean").textContent));
  expect(/as_typed=1/.test(page.url()), `searching as typed is the page's address: ${page.url()}`);
  log(`${corrected.trim()} → ${await page.textContent("#did-you-mean")}`);

  step = "facet";
  await box.fill("drill");
  await box.press("Enter");
  await page.waitForFunction(() => /for “drill”/.test(document.querySelector("#status").textContent));
  const before = Number((await page.textContent("#status")).match(/(\d+) products/)[1]);
  const brand = page.locator("#brand-values input[type=checkbox]").first();
  const brandName = await brand.getAttribute("data-value");
  await brand.check();
  await page.waitForFunction(
    (n) => { const m = document.querySelector("#status").textContent.match(/(\d+) products/); return m && Number(m[1]) < n; },
    before,
  );
  const brands = await page.locator("#results li.hit .meta span:first-child").allTextContents();
  expect(brands.length > 0 && brands.every((b) => b === brandName), `every hit is ${brandName}: ${brands}`);
  log(`brand ${brandName}: ${before} → ${brands.length} shown, ${await page.textContent("#status")}`);

  step = "attribute facet";
  // The colour facet the settings declare: ticking one value narrows to its count, and the
  // other colours stay listed with their counts (a disjunctive facet).
  await box.fill("");
  await box.press("Enter");
  // The listing without words has replaced the one for "drill" before its facets are read.
  await page.waitForFunction(() => /^\d+ products — /.test(document.querySelector("#status").textContent));
  await page.locator("#facet-colour input[type=checkbox]").first().waitFor();
  const colour = page.locator("#facet-colour input[type=checkbox]").first();
  const colourName = await colour.getAttribute("data-value");
  const colourCount = Number(await page.locator("#facet-colour li").first().locator(".count").textContent());
  const listed = await page.locator("#facet-colour li").count();
  await colour.check();
  await page.waitForFunction(
    (n) => { const m = document.querySelector("#status").textContent.match(/(\d+) products/); return m && Number(m[1]) === n; },
    colourCount,
  );
  const stillListed = await page.locator("#facet-colour li").count();
  expect(stillListed === listed, `the other colours stay listed: ${stillListed} of ${listed}`);
  const span = await page.textContent("#price-span");
  expect(/\d+\.\d\d – \d+\.\d\d/.test(span), `the price span is shown: ${span}`);
  log(`colour ${colourName}: ${colourCount} products, ${stillListed} colours listed, prices ${span}`);

  step = "address";
  // A search with a facet on page 2 is the page's address: reload shows it again, Back steps
  // back through the searches, Forward returns.
  await page.goto(base + "/", { waitUntil: "networkidle" });
  await page.waitForSelector("#results li.hit");
  // Cheapest first: the listing without words has an order of its own, not ties that a merge
  // or an engagement signal could reorder between two visits.
  await page.getByLabel("Sort by").selectOption("price_asc");
  await page.waitForFunction(() => /sort=price_asc/.test(location.search));
  await page.waitForFunction(() => {
    const tags = [...document.querySelectorAll("#results li.hit .price-tag")].map((t) => Number(t.textContent.replace(/[^0-9.]/g, "")));
    return /^\d+ products/.test(document.querySelector("#status").textContent) && tags.length > 0 && tags.every((p, i) => i === 0 || tags[i - 1] <= p);
  });
  const unfiltered = await page.textContent("#status");
  const colours = page.locator("#facet-colour li");
  await colours.first().waitFor();
  let bigColour = -1;
  for (let i = 0; i < (await colours.count()); i++) {
    if (Number(await colours.nth(i).locator(".count").textContent()) > 10) { bigColour = i; break; }
  }
  expect(bigColour >= 0, "a colour with more than one page of products");
  const colourBox = colours.nth(bigColour).locator("input");
  const colourValue = await colourBox.getAttribute("data-value");
  await colourBox.check();
  // The answer, not "Searching…".
  await page.waitForFunction((u) => {
    const status = document.querySelector("#status").textContent;
    return status !== u && /^\d+ products/.test(status);
  }, unfiltered);
  const pageOne = await page.textContent("#status");
  const firstOnOne = await page.locator("#results li.hit").first().getAttribute("data-id");
  await page.getByRole("button", { name: "Page 2", exact: true }).click();
  await page.waitForFunction(() => /page 2 of/.test(document.querySelector("#status").textContent));
  const pageTwo = await page.textContent("#status");
  const firstOnTwo = await page.locator("#results li.hit").first().getAttribute("data-id");
  const address = page.url();
  expect(address.includes("page=2") && address.includes(`f.colour=${encodeURIComponent(colourValue)}`), `the address holds the state: ${address}`);
  const colourChecked = (value) => page.locator(`#facet-colour input[data-value="${value}"]`).isChecked();
  await page.reload({ waitUntil: "networkidle" });
  await page.waitForFunction(() => /page 2 of/.test(document.querySelector("#status").textContent));
  expect((await page.textContent("#status")) === pageTwo, `reload keeps the search: ${await page.textContent("#status")}`);
  expect((await page.locator("#results li.hit").first().getAttribute("data-id")) === firstOnTwo, "reload shows the same hits");
  expect(await colourChecked(colourValue), "reload keeps the colour ticked");
  await page.goBack();
  await page.waitForFunction((s) => document.querySelector("#status").textContent === s, pageOne);
  expect((await page.locator("#results li.hit").first().getAttribute("data-id")) === firstOnOne, "Back shows page 1");
  expect(await colourChecked(colourValue), "Back to page 1 keeps the colour ticked");
  await page.goBack();
  await page.waitForFunction((s) => document.querySelector("#status").textContent === s, unfiltered);
  expect(!(await colourChecked(colourValue)), "Back again unticks the colour");
  await page.goForward();
  await page.waitForFunction((s) => document.querySelector("#status").textContent === s, pageOne);
  log(`colour ${colourValue} page 2 (${pageTwo}) survives reload; Back → ${pageOne} → ${unfiltered}; Forward → page 1`);

  step = "currency";
  // One currency at a time: every price in the list is in it, and the price filter applies
  // within it.
  const prices = async () => (await page.locator("#results li.hit .price-tag").allTextContents());
  const amount = (tag) => Number(tag.replace(/[^0-9.]/g, ""));
  const usd = await prices();
  expect(usd.length > 0 && usd.every((p) => p.startsWith("$")), `the browser's English products are in dollars: ${usd}`);
  // Every price shown starts with `symbol` once the answer is in (a timeout when it never does).
  const pricedIn = (symbol) => page.waitForFunction((c) => {
    const tags = [...document.querySelectorAll("#results li.hit .price-tag")].map((t) => t.textContent);
    return /\d+ products/.test(document.querySelector("#status").textContent) && tags.length > 0 && tags.every((t) => t.startsWith(c));
  }, symbol);
  await page.getByLabel("Currency").selectOption("EUR");
  await pricedIn("€");
  const euros = await prices();
  expect(euros.length > 0 && euros.every((p) => p.startsWith("€")), `only euros: ${euros}`);
  expect((await page.getByLabel("Language").inputValue()) === "all", "no English product is in euros: all languages");
  const allEuros = Number((await page.textContent("#status")).match(/(\d+) products/)[1]);
  await page.getByLabel("Max").fill("40");
  await page.getByLabel("Max").press("Enter");
  await page.getByLabel("Max").blur();
  await page.waitForFunction((n) => { const m = document.querySelector("#status").textContent.match(/^(\d+) products/); return m && Number(m[1]) < n; }, allEuros);
  const beforeSort = await page.locator("#results li.hit").first().getAttribute("data-id");
  await page.getByLabel("Sort by").selectOption("price_desc");
  await page.waitForFunction(() => /sort=price_desc/.test(location.search));
  // The list is shown dearest first once the sorted answer is in.
  await page.waitForFunction(() => {
    const tags = [...document.querySelectorAll("#results li.hit .price-tag")].map((t) => Number(t.textContent.replace(/[^0-9.]/g, "")));
    return tags.length > 0 && tags.every((p, i) => i === 0 || tags[i - 1] >= p);
  });
  const cheap = await prices();
  expect(cheap.length > 0 && cheap.every((p) => p.startsWith("€") && amount(p) <= 40), `euros up to 40: ${cheap} (first before sorting: ${beforeSort})`);
  const underForty = await page.textContent("#status");
  log(`${allEuros} products in euros; up to €40, dearest first: ${underForty}, first ${cheap[0]}`);

  step = "language";
  // The language selector shows one language's products, in the currency they are priced in.
  await page.getByLabel("Max").fill("");
  await page.getByLabel("Max").press("Enter");
  await page.getByLabel("Max").blur();
  await page.waitForFunction((s) => {
    const status = document.querySelector("#status").textContent;
    return status !== s && /^\d+ products/.test(status);
  }, underForty);
  // The hits shown, all in `lang` once the answer is in (a timeout when they never are).
  const allIn = (lang) => page.waitForFunction((l) => {
    const hits = [...document.querySelectorAll("#results li.hit")];
    return hits.length > 0 && hits.every((h) => h.lang === l);
  }, lang);
  await page.getByLabel("Language").selectOption("de");
  await page.waitForFunction(() => /lang=de/.test(location.search));
  await allIn("de");
  const german = await page.locator("#results li.hit").evaluateAll((hits) => hits.map((h) => h.lang));
  expect(german.length > 0 && german.every((l) => l === "de"), `German products only: ${german}`);
  expect((await prices()).every((p) => p.startsWith("€")), "in euros");
  const deStatus = await page.textContent("#status");
  await page.getByLabel("Language").selectOption("en");
  await page.waitForFunction(() => /lang=en/.test(location.search) && /currency=USD/.test(location.search));
  await allIn("en");
  const english = await page.locator("#results li.hit").evaluateAll((hits) => hits.map((h) => h.lang));
  expect(english.length > 0 && english.every((l) => l === "en"), `English products only: ${english}`);
  expect((await prices()).every((p) => p.startsWith("$")), "English products switch the currency to dollars");
  log(`Deutsch: ${deStatus}; English: ${await page.textContent("#status")} in dollars`);

  step = "deliver to";
  // Delivered to New York: every hit shows its best offer from a seller serving the city, by
  // name and distance; the sellers are a facet; a product lists its offers there.
  await page.getByLabel("Deliver to").selectOption({ label: "New York (US)" });
  await page.waitForFunction(() => /to=/.test(location.search));
  await page.waitForFunction(() => {
    const hits = [...document.querySelectorAll("#results li.hit")];
    return /^\d+ products/.test(document.querySelector("#status").textContent) && hits.length > 0
      && hits.every((h) => h.querySelector(".offer .distance"));
  });
  const nearStatus = await page.textContent("#status");
  const km = (await page.locator("#results .offer .distance").allTextContents()).map((d) => parseFloat(d));
  expect(km.length > 0 && km.every((d) => d >= 0 && d < 1000), `offers near New York: ${km}`);
  await page.waitForFunction(() => [...document.querySelectorAll("#results .offer .seller")].every((s) => s.textContent !== s.dataset.vendor));
  const sellerNames = await page.locator("#results .offer .seller").allTextContents();
  const sellerBoxes = page.locator("#seller-values input");
  await sellerBoxes.first().waitFor();
  const sellerCount = await sellerBoxes.count();
  const sellerId = await sellerBoxes.first().getAttribute("data-value");
  await sellerBoxes.first().check();
  await page.waitForFunction((id) => new URLSearchParams(location.search).getAll("seller").includes(id), sellerId);
  await page.waitForFunction((id) => {
    const sellers = [...document.querySelectorAll("#results .offer .seller")];
    return sellers.length > 0 && sellers.every((s) => s.dataset.vendor === id);
  }, sellerId);
  const fromOne = await page.textContent("#status");
  await page.locator("#results li.hit .hit-title button").first().click();
  await dialog.waitFor({ state: "visible" });
  await page.locator("#offers li").first().waitFor();
  const offerKm = (await page.locator("#offers .distance").allTextContents()).map((d) => parseFloat(d));
  expect(offerKm.length > 0 && offerKm.every((d) => d >= 0), `the product's offers near New York: ${offerKm}`);
  const offerStatus = await page.textContent("#offers-status");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  await page.getByLabel("Deliver to").selectOption("");
  await page.waitForFunction(() => !/to=/.test(location.search) && !/seller=/.test(location.search));
  await page.waitForFunction(() => /^\d+ products/.test(document.querySelector("#status").textContent)
    && document.querySelectorAll("#results .offer").length === 0 && document.querySelector("#facet-seller").hidden);
  log(`${nearStatus}, sellers first “${sellerNames[0]}” at ${km[0]} km; ${sellerCount} sellers, one ticked: ${fromOne}; product: ${offerStatus}`);

  step = "product";
  await page.locator("#results li.hit .hit-title button").first().click();
  await dialog.waitFor({ state: "visible" });
  const title = await page.locator("#product-title").textContent();
  await page.locator("#similar li").first().waitFor({ timeout: 15000 });
  const similar = await page.locator("#similar li button").allTextContents();
  expect(similar.length > 0, "similar products are listed");
  log(`“${title}” → ${similar.length} similar, first “${similar[0]}”`);
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });

  step = "vendors";
  await page.getByRole("button", { name: "Find vendors" }).click();
  await page.getByLabel("City").selectOption({ label: "Berlin (DE)" });
  await page.getByLabel("Within").selectOption("25");
  await page.locator("#vendor-form button[type=submit]").click();
  await page.locator("#vendor-results li").first().waitFor();
  const distances = (await page.locator("#vendor-results .distance").allTextContents()).map((d) => parseFloat(d));
  expect(distances.length > 0, "vendors near Berlin");
  expect(distances.every((d) => d <= 25), `within 25 km: ${distances}`);
  expect(distances.every((d, i) => i === 0 || distances[i - 1] <= d), `nearest first: ${distances}`);
  expect(/view=vendors/.test(page.url()) && /near=/.test(page.url()), `the vendor search is in the address: ${page.url()}`);
  await page.reload();
  await page.locator("#vendor-results li").first().waitFor();
  const again = (await page.locator("#vendor-results .distance").allTextContents()).map((d) => parseFloat(d));
  expect(JSON.stringify(again) === JSON.stringify(distances), `reload finds the same vendors: ${again}`);
  log(`${distances.length} vendors within 25 km of Berlin, nearest ${distances[0]} km; the same after reload`);

  step = "narrow screen";
  await page.setViewportSize({ width: 375, height: 740 });
  await page.getByRole("button", { name: "Products" }).click();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width <= 375, `no horizontal scrolling at 375 px: ${width}`);
  log(`page width ${width} px at 375 px`);

  step = "hygiene";
  expect(offsite.length === 0, `no requests off the server: ${offsite}`);
  expect(failures.length === 0, failures.join("; "));
  log(`${requests.length} requests, all to the server; no page errors`);
  await browser.close();
} catch (error) {
  const file = `${shots}/storefront-${step.replace(/\W+/g, "-")}.png`;
  await page.screenshot({ path: file, fullPage: true }).catch(() => {});
  console.error(`FAILED at ${step}: ${error.message}\nscreenshot: ${file}`);
  if (failures.length) console.error(failures.join("\n"));
  await browser.close();
  process.exit(1);
}
