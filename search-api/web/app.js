// The storefront demo page: search with as-you-type suggestions, facets, filters, sort and
// pages; a product's details and similar products; a vendor finder. Plain browser JavaScript,
// no dependencies, served by `searchd serve` from the binary. It uses only a search-scoped key
// (from /app/config.json; none with `serve --demo`).
"use strict";

const $ = (id) => document.getElementById(id);
const PER_PAGE = 10;
const DEBOUNCE_MS = 120;

const state = {
  key: "",
  q: "",
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
};

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
    search();
    openProduct(s.id);
    return;
  } else {
    $("q").value = s.text;
    state.q = s.text;
  }
  search();
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
  state.page = 1;
  search();
});

// ---- Search results ----------------------------------------------------------------------------

function searchUrl() {
  const p = new URLSearchParams();
  p.set("q", state.q);
  p.set("facets", ["brand", "category", "price", ...state.attributes].join(","));
  // Checkboxes: each facet's counts ignore its own ticks.
  p.set("disjunctive", ["brand", ...state.attributes].join(","));
  const ticked = state.attributes
    .filter((name) => state.picked[name] && state.picked[name].size > 0)
    .map((name) => `${name} IN [${[...state.picked[name]].map((v) => JSON.stringify(v)).join(", ")}]`);
  if (ticked.length) p.set("filter", ticked.join(" AND "));
  p.set("highlight", "true");
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
  const list = $("results");
  list.innerHTML = "";
  for (const hit of body.hits) {
    const p = hit.product;
    const title = hit.highlight ? hit.highlight.title : text(p.title);
    const snippet = hit.highlight && hit.highlight.description ? hit.highlight.description : text((p.description || "").slice(0, 180));
    const li = document.createElement("li");
    li.className = "hit";
    li.dataset.id = p.id;
    li.innerHTML = `
      <h3 class="hit-title"><button type="button">${title}</button></h3>
      ${meta(p, { reviews: true, stock: true })}
      ${snippet ? `<p class="snippet">${snippet}</p>` : ""}`;
    li.querySelector("button").addEventListener("click", () => openProduct(p.id));
    list.appendChild(li);
  }
  renderFacets(body.facets || {});
  renderAttributeFacets(body.facets || {});
  renderPriceStats((body.facet_stats || {}).price);
  renderPager(body);
}

// One facet value as a checkbox; `toggle(checked)` updates the state, then page 1 is searched.
function facetItem(list, value, count, checked, toggle) {
  const li = document.createElement("li");
  const tally = count == null ? "" : ` <span class="count">${count}</span>`;
  li.innerHTML = `<label><input type="checkbox"> <span>${text(value)}</span>${tally}</label>`;
  const box = li.querySelector("input");
  box.checked = checked;
  box.dataset.value = value;
  box.addEventListener("change", () => {
    toggle(box.checked);
    state.page = 1;
    search();
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
      search().then(() => $("results").focus());
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

$("sort").addEventListener("change", (event) => {
  state.sort = event.target.value;
  state.page = 1;
  search();
});
$("in-stock").addEventListener("change", (event) => {
  state.inStock = event.target.checked;
  state.page = 1;
  search();
});
for (const [id, field] of [["price-min", "priceMin"], ["price-max", "priceMax"]]) {
  $(id).addEventListener("change", (event) => {
    state[field] = event.target.value;
    state.page = 1;
    search();
  });
}

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

// ---- Vendors ----------------------------------------------------------------------------------

function showView(products) {
  $("products-view").hidden = !products;
  $("vendors-view").hidden = products;
  $("tab-products").setAttribute("aria-pressed", String(products));
  $("tab-vendors").setAttribute("aria-pressed", String(!products));
  (products ? $("q") : $("city")).focus();
}
$("tab-products").addEventListener("click", () => showView(true));
$("tab-vendors").addEventListener("click", () => showView(false));

$("city").addEventListener("change", (event) => {
  if (event.target.value) $("location").value = event.target.value;
});

$("vendor-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const location = $("location").value.replace(/\s+/g, "");
  if (!/^-?\d+(\.\d+)?,-?\d+(\.\d+)?$/.test(location)) {
    $("vendor-status").textContent = "Choose a city or enter a location as “lat, lon”.";
    return;
  }
  const p = new URLSearchParams({ near: location, radius_km: $("radius").value, sort: "distance", per_page: "20" });
  const q = $("vendor-q").value.trim();
  if (q) p.set("q", q);
  $("vendor-status").textContent = "Searching…";
  try {
    const body = await api(`/v1/vendors/search?${p}`);
    const list = $("vendor-results");
    list.innerHTML = "";
    $("vendor-status").textContent = body.total_hits === 0
      ? "No vendors within that distance."
      : `${body.total_hits} vendors within ${$("radius").value} km, nearest first`;
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
  search();
}

start();
