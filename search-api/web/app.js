// The storefront demo page: search with as-you-type suggestions, facets, filters, sort and
// pages, one language and one currency at a time; "deliver to" a city (products in stock from a
// seller serving it, each with its best offer, a seller facet, and a product's offers there); a
// product's details and similar products; a vendor finder. What is shown lives in the address (reload, bookmarks, Back and Forward keep
// it). Plain browser JavaScript, no dependencies, served by `searchd serve` from the binary. It
// uses only a search-scoped key (from /app/config.json; none with `serve --demo`).
"use strict";

const $ = (id) => document.getElementById(id);
const PER_PAGE = 10;
const DEBOUNCE_MS = 120;

const state = {
  key: "",
  view: "products",
  q: "",
  // The products' language ("" for all; null until chosen: the browser's, if the catalog has it)
  // and the one currency shown.
  lang: null,
  currency: "",
  languages: [],
  currencies: [],
  page: 1,
  sort: "relevance",
  brands: new Set(),
  category: "",
  inStock: false,
  priceMin: "",
  priceMax: "",
  // Facetable keyword and boolean attributes the settings declare, and the values ticked.
  attributes: [],
  picked: {},
  suggestions: [],
  active: -1,
  // The vendor search.
  near: "",
  radius: "25",
  vq: "",
  // The query searched as typed, not corrected ("Search instead for …").
  asTyped: false,
  // "Deliver to": `lat,lon` of the shopper ("" for anywhere), and the sellers ticked.
  deliverTo: "",
  sellers: new Set(),
};

// Vendor id → name, as read from /v1/vendors/{id}.
const vendorNames = new Map();

async function vendorName(id) {
  if (!vendorNames.has(id)) {
    vendorNames.set(id, api(`/v1/vendors/${encodeURIComponent(id)}`).then((v) => v.name).catch(() => id));
  }
  return vendorNames.get(id);
}

function offerMoney(offer, product) {
  return money({ price: offer.price, currency: offer.currency || product.currency });
}

// ---- API ----------------------------------------------------------------------------------

async function api(path) {
  const headers = state.key ? { "x-api-key": state.key } : {};
  const response = await fetch(path, { headers });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.message || `HTTP ${response.status}`);
    error.code = body.code;
    error.status = response.status;
    throw error;
  }
  return body;
}

function text(value) {
  const span = document.createElement("span");
  span.textContent = value == null ? "" : String(value);
  return span.innerHTML;
}

function money(product) {
  if (product.price == null) return "";
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: product.currency || "USD" }).format(product.price);
  } catch {
    return product.price.toFixed(2);
  }
}

// Brand, category path, price, rating and stock of a product, as the results and the product
// dialog show them.
function meta(p, { reviews = false, stock = false } = {}) {
  return `<div class="meta">
    ${p.brand ? `<span>${text(p.brand)}</span>` : ""}
    ${p.category && p.category.length ? `<span>${text(p.category.join(" › "))}</span>` : ""}
    ${p.price != null ? `<span class="price-tag">${text(money(p))}</span>` : ""}
    ${p.rating != null ? `<span>★ ${text(p.rating.toFixed(1))}${reviews ? ` (${text(p.review_count)})` : ""}</span>` : ""}
    ${stock && !p.in_stock ? `<span class="out">Out of stock</span>` : ""}
  </div>`;
}

// ---- Suggestions (combobox) ------------------------------------------------------------------

let suggestTimer = 0;
let suggestSeq = 0;

function closeSuggestions() {
  $("suggestions").hidden = true;
  $("q").setAttribute("aria-expanded", "false");
  $("q").removeAttribute("aria-activedescendant");
  state.suggestions = [];
  state.active = -1;
}

function renderSuggestions() {
  const list = $("suggestions");
  list.innerHTML = "";
  state.suggestions.forEach((s, i) => {
    const li = document.createElement("li");
    li.id = `suggestion-${i}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(i === state.active));
    // `highlight` is HTML-escaped by the server, with the match inside <em>.
    li.innerHTML = `<span class="text">${s.highlight}</span><span class="kind">${text(s.type)}</span>`;
    li.addEventListener("mousedown", (event) => {
      event.preventDefault();
      choose(i);
    });
    list.appendChild(li);
  });
  const open = state.suggestions.length > 0;
  list.hidden = !open;
  $("q").setAttribute("aria-expanded", String(open));
  if (state.active >= 0) {
    $("q").setAttribute("aria-activedescendant", `suggestion-${state.active}`);
    $(`suggestion-${state.active}`).scrollIntoView({ block: "nearest" });
  } else {
    $("q").removeAttribute("aria-activedescendant");
  }
}

async function suggest(value) {
  const seq = ++suggestSeq;
  if (!value.trim()) {
    closeSuggestions();
    return;
  }
  try {
    const body = await api(`/v1/autocomplete?q=${encodeURIComponent(value)}&limit=8`);
    if (seq !== suggestSeq) return; // a later keystroke already asked
    state.suggestions = body.suggestions;
    state.active = -1;
    renderSuggestions();
  } catch {
    closeSuggestions();
  }
}

function choose(i) {
  const s = state.suggestions[i];
  if (!s) return;
  closeSuggestions();
  state.page = 1;
  state.asTyped = false;
  if (state.view !== "products") showView(true, false);
  if (s.type === "brand") {
    state.q = "";
    state.brands = new Set([s.text]);
    $("q").value = "";
  } else if (s.type === "category") {
    state.q = "";
    state.category = s.path || s.text;
    $("q").value = "";
  } else if (s.type === "product" && s.id) {
    $("q").value = s.text;
    state.q = s.text;
    go();
    openProduct(s.id);
    return;
  } else {
    $("q").value = s.text;
    state.q = s.text;
  }
  go();
}

$("q").addEventListener("input", (event) => {
  clearTimeout(suggestTimer);
  const value = event.target.value;
  suggestTimer = setTimeout(() => suggest(value), DEBOUNCE_MS);
});

$("q").addEventListener("keydown", (event) => {
  const n = state.suggestions.length;
  if (event.key === "ArrowDown" && n) {
    event.preventDefault();
    state.active = (state.active + 1) % n;
    renderSuggestions();
  } else if (event.key === "ArrowUp" && n) {
    event.preventDefault();
    state.active = state.active <= 0 ? n - 1 : state.active - 1;
    renderSuggestions();
  } else if (event.key === "Enter" && state.active >= 0) {
    event.preventDefault();
    choose(state.active);
  } else if (event.key === "Escape") {
    closeSuggestions();
  }
});

$("q").addEventListener("blur", () => setTimeout(closeSuggestions, 150));

$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(suggestTimer);
  suggestSeq++;
  closeSuggestions();
  state.q = $("q").value;
  state.asTyped = false;
  state.page = 1;
  if (state.view !== "products") showView(true, false);
  go();
});

// ---- Search results ----------------------------------------------------------------------------

function searchUrl() {
  const p = new URLSearchParams();
  p.set("q", state.q);
  p.set("facets", ["brand", "category", "price", ...state.attributes, ...(state.deliverTo ? ["vendor"] : [])].join(","));
  // Checkboxes: each facet's counts ignore its own ticks.
  p.set("disjunctive", ["brand", ...state.attributes].join(","));
  const clauses = state.attributes
    .filter((name) => state.picked[name] && state.picked[name].size > 0)
    .map((name) => `${name} IN [${[...state.picked[name]].map((v) => JSON.stringify(v)).join(", ")}]`);
  // One currency at a time: prices, the price filter, facets and sort are all within it.
  if (state.currency) clauses.push(`currency = ${JSON.stringify(state.currency)}`);
  if (state.deliverTo) {
    // Near the shopper: only products a seller serving them has in stock, each with its best offer.
    p.set("near", state.deliverTo);
    if (state.sellers.size) clauses.push(`offer.vendor_id IN [${[...state.sellers].map((v) => JSON.stringify(v)).join(", ")}]`);
  }
  if (state.lang) {
    clauses.push(`language = ${JSON.stringify(state.lang)}`);
    p.set("lang", state.lang);
  }
  if (clauses.length) p.set("filter", clauses.join(" AND "));
  p.set("highlight", "true");
  // Explain says which hits a merchandising rule pinned.
  p.set("explain", "true");
  if (state.asTyped) p.set("correct", "false");
  p.set("page", String(state.page));
  p.set("per_page", String(PER_PAGE));
  if (state.sort !== "relevance") p.set("sort", state.sort);
  for (const brand of state.brands) p.append("brand", brand);
  if (state.category) p.set("category", state.category);
  if (state.inStock) p.set("in_stock", "true");
  if (state.priceMin !== "") p.set("price_min", state.priceMin);
  if (state.priceMax !== "") p.set("price_max", state.priceMax);
  return `/v1/products/search?${p}`;
}

let searchSeq = 0;

async function search() {
  const seq = ++searchSeq;
  $("status").textContent = "Searching…";
  try {
    const body = await api(searchUrl());
    if (seq !== searchSeq) return;
    renderResults(body);
  } catch (error) {
    if (seq !== searchSeq) return;
    $("status").textContent = `Search failed: ${error.message}`;
    $("results").innerHTML = "";
    $("pager").innerHTML = "";
  }
}

function renderResults(body) {
  const what = state.q ? `for “${state.q}”` : "";
  $("status").textContent = body.total_hits === 0
    ? `No products ${what}`.trim()
    : `${body.total_hits} products ${what} — page ${body.page} of ${body.total_pages}`.replace(/\s+—/, " —");
  renderCorrection(body);
  const list = $("results");
  list.innerHTML = "";
  for (const hit of body.hits) {
    const p = hit.product;
    const title = hit.highlight ? hit.highlight.title : text(p.title);
    const snippet = hit.highlight && hit.highlight.description ? hit.highlight.description : text((p.description || "").slice(0, 180));
    const li = document.createElement("li");
    li.className = "hit";
    li.dataset.id = p.id;
    if (p.language) li.lang = p.language;
    const pin = ((hit.explain && hit.explain.rules) || []).find((r) => r.action === "pin");
    const badge = pin ? ` <span class="pinned" title="Pinned at ${pin.position} by rule ${text(pin.rule)}">Pinned</span>` : "";
    const o = hit.offer;
    const offer = o ? `<p class="offer"><span class="offer-price">${text(offerMoney(o.offer, p))}</span>
        from <span class="seller" data-vendor="${text(o.offer.vendor_id)}">${text(o.offer.vendor_id)}</span>
        · <span class="distance">${text(o.distance_km.toFixed(1))} km</span>
        · ${o.offer.lead_time_days ? `ships in ${text(o.offer.lead_time_days)} days` : "ships today"}
        ${o.serving_offers > 1 ? ` · ${text(o.serving_offers)} offers near you` : ""}</p>` : "";
    li.innerHTML = `
      <h3 class="hit-title"><button type="button">${title}</button>${badge}</h3>
      ${meta(p, { reviews: true, stock: true })}
      ${offer}
      ${snippet ? `<p class="snippet">${snippet}</p>` : ""}`;
    li.querySelector("button").addEventListener("click", () => openProduct(p.id));
    list.appendChild(li);
  }
  // Sellers' names, once read.
  for (const span of list.querySelectorAll(".seller")) {
    vendorName(span.dataset.vendor).then((name) => { span.textContent = name; });
  }
  renderSellers(body.facets || {});
  renderFacets(body.facets || {});
  renderAttributeFacets(body.facets || {});
  renderPriceStats((body.facet_stats || {}).price);
  renderPager(body);
}

// "Did you mean": the corrected query searched (with a way back to the query as typed), or
// suggested; and a merchandising rule's redirect, as a link.
function renderCorrection(body) {
  const line = $("did-you-mean");
  line.innerHTML = "";
  const dym = body.did_you_mean;
  if (dym && dym.applied) {
    line.innerHTML = `Showing results for <strong>${text(dym.query)}</strong>. <button type="button" class="link">Search instead for “${text(state.q)}”</button>`;
    line.querySelector("button").addEventListener("click", () => {
      state.asTyped = true;
      state.page = 1;
      go();
    });
  } else if (dym) {
    line.innerHTML = `Did you mean <button type="button" class="link">${text(dym.query)}</button>?`;
    line.querySelector("button").addEventListener("click", () => {
      state.q = dym.query;
      state.asTyped = false;
      state.page = 1;
      syncControls();
      go();
    });
  }
  if (body.redirect) {
    const link = document.createElement("a");
    link.href = body.redirect;
    link.textContent = `See ${body.redirect}`;
    link.className = "redirect";
    line.append(" ", link);
  }
  line.hidden = line.innerHTML === "";
}

// One facet value as a checkbox; `toggle(checked)` updates the state, then page 1 is searched.
function facetItem(list, value, count, checked, toggle, label = value) {
  const li = document.createElement("li");
  const tally = count == null ? "" : ` <span class="count">${count}</span>`;
  li.innerHTML = `<label><input type="checkbox"> <span>${text(label)}</span>${tally}</label>`;
  const box = li.querySelector("input");
  box.checked = checked;
  box.dataset.value = value;
  box.addEventListener("change", () => {
    toggle(box.checked);
    state.page = 1;
    go();
  });
  list.appendChild(li);
}

function renderFacets(facets) {
  const brands = $("brand-values");
  brands.innerHTML = "";
  const brandCounts = facets.brand || [];
  // Selected brands stay listed even when the filter leaves no other.
  for (const selected of state.brands) {
    if (!brandCounts.some((f) => f.value === selected)) brandCounts.unshift({ value: selected, count: 0 });
  }
  for (const f of brandCounts) {
    facetItem(brands, f.value, f.count, state.brands.has(f.value), (checked) => {
      if (checked) state.brands.add(f.value); else state.brands.delete(f.value);
    });
  }

  const categories = $("category-values");
  categories.innerHTML = "";
  // The chosen path, unchecking it goes one level up; then its sub-categories.
  if (state.category) {
    facetItem(categories, state.category, null, true, () => {
      state.category = state.category.split("/").slice(0, -1).join("/");
    });
  }
  for (const f of facets.category || []) {
    facetItem(categories, f.value, f.count, false, () => {
      state.category = state.category ? `${state.category}/${f.value}` : f.value;
    });
  }
}

// Near the shopper, the sellers serving the matches, by name; the ticked ones kept listed.
function renderSellers(facets) {
  const fieldset = $("facet-seller");
  const list = $("seller-values");
  list.innerHTML = "";
  fieldset.hidden = !state.deliverTo;
  if (!state.deliverTo) return;
  const counts = [...(facets.vendor || [])];
  for (const selected of state.sellers) {
    if (!counts.some((f) => f.value === selected)) counts.unshift({ value: selected, count: 0 });
  }
  for (const f of counts) {
    facetItem(list, f.value, f.count, state.sellers.has(f.value), (checked) => {
      if (checked) state.sellers.add(f.value); else state.sellers.delete(f.value);
    });
    const name = list.lastElementChild.querySelector("label > span");
    vendorName(f.value).then((n) => { name.textContent = n; });
  }
}

// One checkbox list per declared facetable attribute, the ticked values kept listed.
function renderAttributeFacets(facets) {
  const holder = $("attribute-facets");
  holder.innerHTML = "";
  for (const name of state.attributes) {
    const picked = state.picked[name] || (state.picked[name] = new Set());
    const values = [...(facets[name] || [])];
    for (const selected of picked) {
      if (!values.some((f) => f.value === selected)) values.unshift({ value: selected, count: 0 });
    }
    if (values.length === 0) continue;
    const fieldset = document.createElement("fieldset");
    fieldset.className = "field";
    fieldset.id = `facet-${name}`;
    const legend = document.createElement("legend");
    legend.textContent = name.replace(/[_.]/g, " ").replace(/^./, (c) => c.toUpperCase());
    const list = document.createElement("ul");
    list.className = "facet";
    fieldset.append(legend, list);
    for (const f of values) {
      facetItem(list, f.value, f.count, picked.has(f.value), (checked) => {
        if (checked) picked.add(f.value); else picked.delete(f.value);
      });
    }
    holder.appendChild(fieldset);
  }
}

// The matching products' price span, as the range inputs' hints.
function renderPriceStats(stats) {
  const span = $("price-span");
  if (!stats || stats.count === 0) {
    span.textContent = "";
    return;
  }
  span.textContent = `${stats.min.toFixed(2)} – ${stats.max.toFixed(2)}`;
  $("price-min").placeholder = Math.floor(stats.min);
  $("price-max").placeholder = Math.ceil(stats.max);
}

function renderPager(body) {
  const pager = $("pager");
  pager.innerHTML = "";
  if (body.total_pages <= 1) return;
  const button = (label, page, { current = false, disabled = false, aria = "" } = {}) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    if (aria) b.setAttribute("aria-label", aria);
    if (current) b.setAttribute("aria-current", "page");
    b.disabled = disabled;
    b.addEventListener("click", () => {
      state.page = page;
      go().then(() => $("results").focus());
    });
    pager.appendChild(b);
  };
  // The result window ends at 1,000 hits.
  const last = Math.min(body.total_pages, Math.floor(1000 / PER_PAGE));
  button("‹", body.page - 1, { disabled: body.page <= 1, aria: "Previous page" });
  const from = Math.max(1, body.page - 2);
  const to = Math.min(last, from + 4);
  for (let page = from; page <= to; page++) button(String(page), page, { current: page === body.page, aria: `Page ${page}` });
  button("›", body.page + 1, { disabled: body.page >= last, aria: "Next page" });
}

$("deliver-to").addEventListener("change", (event) => {
  state.deliverTo = event.target.value;
  state.sellers = new Set();
  state.page = 1;
  go();
});
$("sort").addEventListener("change", (event) => {
  state.sort = event.target.value;
  state.page = 1;
  go();
});
$("in-stock").addEventListener("change", (event) => {
  state.inStock = event.target.checked;
  state.page = 1;
  go();
});
for (const [id, field] of [["price-min", "priceMin"], ["price-max", "priceMax"]]) {
  $(id).addEventListener("change", (event) => {
    state[field] = event.target.value;
    state.page = 1;
    go();
  });
}
$("language").addEventListener("change", async (event) => {
  state.lang = event.target.value === "all" ? "" : event.target.value;
  state.page = 1;
  await pickCurrency();
  go();
});
$("currency").addEventListener("change", async (event) => {
  state.currency = event.target.value;
  // Bounds typed in another currency mean nothing in this one.
  state.priceMin = "";
  state.priceMax = "";
  state.page = 1;
  await pickLanguage();
  syncControls();
  go();
});

// ---- Product and similar products -------------------------------------------------------------

async function openProduct(id) {
  const dialog = $("product-dialog");
  $("product-detail").innerHTML = "<p>Loading…</p>";
  $("similar").innerHTML = "";
  $("similar-status").textContent = "";
  if (!dialog.open) dialog.showModal();
  try {
    const p = await api(`/v1/products/${encodeURIComponent(id)}`);
    $("product-detail").innerHTML = `
      <h2 id="product-title">${text(p.title)}</h2>
      ${meta(p)}
      ${p.description ? `<p>${text(p.description)}</p>` : ""}`;
  } catch (error) {
    $("product-detail").innerHTML = `<p>Could not load the product: ${text(error.message)}</p>`;
    return;
  }
  await listOffers(id);
  $("similar-status").textContent = "Loading similar products…";
  try {
    const body = await api(`/v1/products/${encodeURIComponent(id)}/similar?limit=6`);
    $("similar-status").textContent = body.hits.length ? "" : "No similar products found.";
    for (const hit of body.hits) {
      const li = document.createElement("li");
      li.innerHTML = `<button type="button" class="link">${text(hit.product.title)}</button><span>${text(money(hit.product))}</span>`;
      li.querySelector("button").addEventListener("click", () => openProduct(hit.product.id));
      $("similar").appendChild(li);
    }
  } catch (error) {
    $("similar-status").textContent = error.code === "model_not_ready"
      ? "Similar products appear once the recommendation model is trained."
      : `Could not load similar products: ${error.message}`;
  }
}

// The product's offers from sellers serving the shopper, cheapest first (with "deliver to").
async function listOffers(id) {
  const section = $("offers-section");
  const list = $("offers");
  list.innerHTML = "";
  section.hidden = !state.deliverTo;
  if (!state.deliverTo) return;
  $("offers-status").textContent = "Loading offers…";
  try {
    const body = await api(`/v1/products/${encodeURIComponent(id)}/offers?${new URLSearchParams({ near: state.deliverTo, limit: "10" })}`);
    $("offers-status").textContent = body.total === 0 ? "No seller near you has it in stock." : `${body.total} offers near you`;
    for (const hit of body.hits) {
      const o = hit.offer;
      const li = document.createElement("li");
      li.innerHTML = `<span class="seller">${text(hit.vendor_name || o.vendor_id)}</span>
        <span><span class="offer-price">${text(offerMoney(o, {}))}</span> · <span class="distance">${text(hit.distance_km.toFixed(1))} km</span>
        · ${text(o.stock)} in stock · ${o.lead_time_days ? `${text(o.lead_time_days)} days` : "today"}</span>`;
      list.appendChild(li);
    }
  } catch (error) {
    $("offers-status").textContent = `Could not load the offers: ${error.message}`;
  }
}

// ---- Vendors ----------------------------------------------------------------------------------

function showView(products, focus = true) {
  state.view = products ? "products" : "vendors";
  $("products-view").hidden = !products;
  $("vendors-view").hidden = products;
  $("tab-products").setAttribute("aria-pressed", String(products));
  $("tab-vendors").setAttribute("aria-pressed", String(!products));
  if (focus) (products ? $("q") : $("city")).focus();
}
$("tab-products").addEventListener("click", () => {
  if (state.view === "products") return;
  showView(true);
  go();
});
$("tab-vendors").addEventListener("click", () => {
  if (state.view === "vendors") return;
  showView(false);
  remember();
});

$("city").addEventListener("change", (event) => {
  if (event.target.value) $("location").value = event.target.value;
});

$("vendor-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const near = $("location").value.replace(/\s+/g, "");
  if (!/^-?\d+(\.\d+)?,-?\d+(\.\d+)?$/.test(near)) {
    $("vendor-status").textContent = "Choose a city or enter a location as “lat, lon”.";
    return;
  }
  state.near = near;
  state.radius = $("radius").value;
  state.vq = $("vendor-q").value.trim();
  remember();
  findVendors();
});

async function findVendors() {
  const p = new URLSearchParams({ near: state.near, radius_km: state.radius, sort: "distance", per_page: "20" });
  if (state.vq) p.set("q", state.vq);
  $("vendor-status").textContent = "Searching…";
  try {
    const body = await api(`/v1/vendors/search?${p}`);
    const list = $("vendor-results");
    list.innerHTML = "";
    $("vendor-status").textContent = body.total_hits === 0
      ? "No vendors within that distance."
      : `${body.total_hits} vendors within ${state.radius} km, nearest first`;
    for (const hit of body.hits) {
      const v = hit.vendor;
      const li = document.createElement("li");
      li.className = "vendor";
      li.innerHTML = `
        <h3 class="hit-title">${text(v.name)}</h3>
        <div class="meta">
          <span class="distance">${text(hit.distance_km.toFixed(1))} km</span>
          ${v.categories && v.categories.length ? `<span>${text(v.categories.join(", "))}</span>` : ""}
          ${v.rating != null ? `<span>★ ${text(v.rating.toFixed(1))}</span>` : ""}
          <span>${v.available ? "Taking new work" : "Fully booked"}</span>
        </div>
        ${v.capabilities ? `<p class="snippet">${text(v.capabilities)}</p>` : ""}`;
      list.appendChild(li);
    }
  } catch (error) {
    $("vendor-status").textContent = `Vendor search failed: ${error.message}`;
  }
}

// ---- The page's state in its address -----------------------------------------------------------
// Query, language, currency, filters, facets, sort and page (or the vendor search) are the URL's
// parameters: a link opens the same listing, reload keeps it, Back and Forward step through it.

function stateUrl() {
  const p = new URLSearchParams();
  if (state.view === "vendors") {
    p.set("view", "vendors");
    if (state.near) p.set("near", state.near);
    if (state.near) p.set("radius", state.radius);
    if (state.vq) p.set("vq", state.vq);
    return `?${p}`;
  }
  if (state.q) p.set("q", state.q);
  if (state.deliverTo) p.set("to", state.deliverTo);
  for (const seller of state.sellers) p.append("seller", seller);
  p.set("lang", state.lang || "all");
  if (state.currency) p.set("currency", state.currency);
  if (state.category) p.set("category", state.category);
  for (const brand of state.brands) p.append("brand", brand);
  for (const [name, values] of Object.entries(state.picked)) for (const value of values) p.append(`f.${name}`, value);
  if (state.inStock) p.set("in_stock", "1");
  if (state.priceMin !== "") p.set("price_min", state.priceMin);
  if (state.priceMax !== "") p.set("price_max", state.priceMax);
  if (state.sort !== "relevance") p.set("sort", state.sort);
  if (state.page > 1) p.set("page", String(state.page));
  if (state.asTyped) p.set("as_typed", "1");
  return `?${p}`;
}

// Records the state as a new history entry (or as the current one when nothing changed).
function remember() {
  const url = stateUrl();
  if (url === location.search) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
}

// A change the shopper made: remembered, then searched.
function go() {
  remember();
  return search();
}

function readUrl() {
  const p = new URLSearchParams(location.search);
  state.view = p.get("view") === "vendors" ? "vendors" : "products";
  state.q = p.get("q") || "";
  state.lang = p.has("lang") ? (p.get("lang") === "all" ? "" : p.get("lang")) : null;
  state.currency = p.get("currency") || "";
  state.category = p.get("category") || "";
  state.brands = new Set(p.getAll("brand"));
  state.deliverTo = /^-?\d+(\.\d+)?,-?\d+(\.\d+)?$/.test(p.get("to") || "") ? p.get("to") : "";
  state.sellers = new Set(state.deliverTo ? p.getAll("seller") : []);
  state.picked = {};
  for (const [key, value] of p) {
    if (key.startsWith("f.") && key.length > 2) (state.picked[key.slice(2)] ||= new Set()).add(value);
  }
  state.inStock = p.get("in_stock") === "1";
  state.asTyped = p.get("as_typed") === "1";
  state.priceMin = p.get("price_min") || "";
  state.priceMax = p.get("price_max") || "";
  const sort = p.get("sort") || "relevance";
  state.sort = [...$("sort").options].some((o) => o.value === sort) ? sort : "relevance";
  state.page = Math.min(100, Math.max(1, parseInt(p.get("page") || "1", 10) || 1));
  state.near = p.get("near") || "";
  state.radius = p.get("radius") || "25";
  state.vq = p.get("vq") || "";
}

// The form controls as the state says.
function syncControls() {
  $("q").value = state.q;
  $("sort").value = state.sort;
  $("in-stock").checked = state.inStock;
  $("price-min").value = state.priceMin;
  $("price-max").value = state.priceMax;
  $("language").value = state.lang || "all";
  $("currency").value = state.currency;
  if (state.deliverTo && ![...$("deliver-to").options].some((o) => o.value === state.deliverTo)) {
    const option = document.createElement("option");
    option.value = state.deliverTo;
    option.textContent = state.deliverTo;
    $("deliver-to").appendChild(option);
  }
  $("deliver-to").value = state.deliverTo;
  $("price-currency").textContent = state.currency ? `(${state.currency})` : "";
  $("location").value = state.near;
  if ([...$("radius").options].some((o) => o.value === state.radius)) $("radius").value = state.radius;
  $("vendor-q").value = state.vq;
}

// The language and currency a first visit starts in: the browser's language when the catalog
// has products in it (else all), and the currency most of those products are priced in.
async function settle() {
  const codes = state.languages.map((l) => l.value);
  if (state.lang === null || (state.lang && !codes.includes(state.lang))) {
    const browser = (navigator.languages || [navigator.language]).map((l) => l.slice(0, 2).toLowerCase());
    state.lang = browser.find((l) => codes.includes(l)) || "";
  }
  await pickCurrency();
}

// Keeps the currency when products of the chosen language are priced in it, else takes the
// one most of them are.
async function pickCurrency() {
  try {
    const p = new URLSearchParams({ per_page: "1", facets: "currency" });
    if (state.lang) p.set("filter", `language = ${JSON.stringify(state.lang)}`);
    const counts = ((await api(`/v1/products/search?${p}`)).facets || {}).currency || [];
    if (!counts.some((c) => c.value === state.currency && c.count > 0) && counts.length) {
      state.currency = counts[0].value;
      state.priceMin = "";
      state.priceMax = "";
    }
  } catch {
    // Counts unreadable: the currency stays as it is.
  }
  syncControls();
}

// Keeps the language when some of its products are priced in the chosen currency, else shows
// all languages.
async function pickLanguage() {
  if (!state.lang || !state.currency) return;
  try {
    const filter = `language = ${JSON.stringify(state.lang)} AND currency = ${JSON.stringify(state.currency)}`;
    const body = await api(`/v1/products/search?${new URLSearchParams({ per_page: "1", filter })}`);
    if (body.total_hits === 0) state.lang = "";
  } catch {
    // Unreadable: the language stays.
  }
}

function languageName(code) {
  try {
    const name = new Intl.DisplayNames([code], { type: "language" }).of(code);
    return name.charAt(0).toLocaleUpperCase(code) + name.slice(1);
  } catch {
    return code;
  }
}

function currencySymbol(code) {
  try {
    const parts = new Intl.NumberFormat(undefined, { style: "currency", currency: code }).formatToParts(0);
    return parts.find((part) => part.type === "currency").value;
  } catch {
    return code;
  }
}

// Shows what the address holds: the view, the controls, and the search.
async function restore() {
  readUrl();
  await settle();
  history.replaceState(null, "", stateUrl());
  showView(state.view === "products", false);
  if (state.view === "products") await search();
  else if (state.near) await findVendors();
}

window.addEventListener("popstate", () => {
  closeSuggestions();
  if ($("product-dialog").open) $("product-dialog").close();
  restore();
});

// ---- Start ------------------------------------------------------------------------------------

async function start() {
  try {
    const config = await fetch("/app/config.json").then((r) => r.json());
    state.key = config.search_key || "";
    for (const city of config.cities || []) {
      const option = document.createElement("option");
      option.value = `${city.lat},${city.lon}`;
      option.textContent = `${city.name} (${city.country})`;
      $("city").appendChild(option);
      $("deliver-to").appendChild(option.cloneNode(true));
    }
  } catch {
    // No config: search without a key (a `--demo` server needs none).
  }
  try {
    // The facets the index's settings declare.
    const settings = await api("/v1/settings");
    state.attributes = Object.entries(settings.attributes || {})
      .filter(([, a]) => a.facetable && (a.type === "keyword" || a.type === "boolean"))
      .map(([name]) => name);
  } catch {
    // Settings unreadable: brand and category only.
  }
  try {
    // The catalog's languages and currencies, for the two selectors.
    const body = await api("/v1/products/search?per_page=1&facets=language,currency&max_values_per_facet=100");
    state.languages = (body.facets || {}).language || [];
    state.currencies = (body.facets || {}).currency || [];
  } catch {
    // Unreadable: all languages, and no currency filter.
  }
  for (const l of state.languages) {
    const option = document.createElement("option");
    option.value = l.value;
    option.textContent = languageName(l.value);
    $("language").appendChild(option);
  }
  for (const c of state.currencies) {
    const option = document.createElement("option");
    option.value = c.value;
    const symbol = currencySymbol(c.value);
    option.textContent = symbol === c.value ? c.value : `${c.value} (${symbol})`;
    $("currency").appendChild(option);
  }
  $("currency").closest(".field").hidden = state.currencies.length === 0;
  await restore();
}

start();
