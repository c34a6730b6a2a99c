//! What a fetched HTML page holds: its links, its robots directives, its language and its
//! products, from schema.org JSON-LD, then microdata, then OpenGraph as a fallback.
//!
//! All three sources are first brought to one shape — a schema.org `Product` as a JSON object
//! (`name`, `brand`, `offers`, `aggregateRating`, …) — so one mapping turns any of them into a
//! catalog [`Product`].

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use scraper::{ElementRef, Html, Selector};
use searchd_catalog::{MAX_ID_BYTES, Product};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use url::Url;

/// Where a page's products came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// schema.org JSON-LD in `<script type="application/ld+json">`.
    JsonLd,
    /// schema.org microdata (`itemscope`, `itemprop`).
    Microdata,
    /// OpenGraph `og:` and `product:` meta tags.
    OpenGraph,
}

impl Source {
    /// The source's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::JsonLd => "json_ld",
            Source::Microdata => "microdata",
            Source::OpenGraph => "open_graph",
        }
    }
}

/// Why a page yields no product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoProduct {
    /// No JSON-LD, microdata or OpenGraph at all.
    NoStructuredData,
    /// Structured data, but none of it a product.
    NotAProduct,
    /// JSON-LD that does not parse, and nothing else to use.
    InvalidJsonLd,
    /// A product without the fields a catalog entry needs (a name).
    IncompleteProduct,
    /// `<meta name="robots" content="noindex">`.
    Noindex,
}

impl NoProduct {
    /// The reason's name in reports and the page store.
    pub fn as_str(self) -> &'static str {
        match self {
            NoProduct::NoStructuredData => "no_structured_data",
            NoProduct::NotAProduct => "not_a_product",
            NoProduct::InvalidJsonLd => "invalid_json_ld",
            NoProduct::IncompleteProduct => "incomplete_product",
            NoProduct::Noindex => "noindex",
        }
    }
}

/// One page, analyzed.
#[derive(Debug, Clone)]
pub struct PageAnalysis {
    /// Absolute links to follow (`<a href>`, not yet normalized); empty under `nofollow`.
    pub links: Vec<Url>,
    /// The products the page describes.
    pub products: Vec<Product>,
    /// The markup they came from.
    pub source: Option<Source>,
    /// Set exactly when `products` is empty.
    pub no_product: Option<NoProduct>,
    /// The page's declared language (primary subtag, lowercase) when it declares one.
    pub language: Option<String>,
}

/// Analyzes the HTML of `url`, fetched at `fetched_at`. Never fails: broken markup is parsed as
/// browsers do, and broken JSON-LD is a reason, not an error.
pub fn analyze(url: &Url, html: &str, fetched_at: OffsetDateTime) -> PageAnalysis {
    let doc = Html::parse_document(html);
    let s = &*SELECTORS;
    let base = doc
        .select(&s.base)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| url.join(h.trim()).ok())
        .unwrap_or_else(|| url.clone());
    let robots: String = doc
        .select(&s.meta_name)
        .filter(|m| m.value().attr("name").is_some_and(|n| n.eq_ignore_ascii_case("robots")))
        .filter_map(|m| m.value().attr("content"))
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase();
    let directive = |d: &str| robots.split(',').any(|x| x.trim() == d || x.trim() == "none");
    let links = if directive("nofollow") {
        Vec::new()
    } else {
        doc.select(&s.a_href)
            .filter_map(|a| a.value().attr("href"))
            .filter_map(|href| base.join(href.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .collect()
    };
    let language = declared_language(&doc);
    if directive("noindex") {
        return PageAnalysis {
            links,
            products: Vec::new(),
            source: None,
            no_product: Some(NoProduct::Noindex),
            language,
        };
    }

    let (json_ld, json_ld_broken) = json_ld_products(&doc);
    let mut found = None;
    if !json_ld.is_empty() {
        found = Some((Source::JsonLd, json_ld));
    } else {
        let microdata = microdata_products(&doc);
        if !microdata.is_empty() {
            found = Some((Source::Microdata, microdata));
        } else if let Some(og) = open_graph_product(&doc) {
            found = Some((Source::OpenGraph, vec![og]));
        }
    }
    let Some((source, objects)) = found else {
        let reason = if json_ld_broken {
            NoProduct::InvalidJsonLd
        } else if has_structured_data(&doc) {
            NoProduct::NotAProduct
        } else {
            NoProduct::NoStructuredData
        };
        return PageAnalysis { links, products: Vec::new(), source: None, no_product: Some(reason), language };
    };
    let mut products: Vec<Product> = Vec::new();
    for object in &objects {
        if let Some(product) = to_product(object, url, source, language.as_deref(), fetched_at) {
            if !products.iter().any(|p| p.id == product.id) {
                products.push(product);
            }
        }
    }
    let no_product = products.is_empty().then_some(NoProduct::IncompleteProduct);
    PageAnalysis { links, products, source: Some(source), no_product, language }
}

/// Every selector the analysis uses, parsed once.
struct Selectors {
    base: Selector,
    meta_name: Selector,
    a_href: Selector,
    html_lang: Selector,
    meta_http_equiv: Selector,
    script_type: Selector,
    itemscope: Selector,
    typed_item: Selector,
    meta_property_or_name: Selector,
}

static SELECTORS: LazyLock<Selectors> = LazyLock::new(|| {
    let parse = |css: &str| Selector::parse(css).expect("static selector");
    Selectors {
        base: parse("base[href]"),
        meta_name: parse("meta[name]"),
        a_href: parse("a[href]"),
        html_lang: parse("html[lang]"),
        meta_http_equiv: parse("meta[http-equiv]"),
        script_type: parse("script[type]"),
        itemscope: parse("[itemscope]"),
        typed_item: parse("[itemscope][itemtype]"),
        meta_property_or_name: parse("meta[property], meta[name]"),
    }
});

/// `<html lang>`, else `Content-Language` in a meta tag, else `og:locale`: the primary subtag.
fn declared_language(doc: &Html) -> Option<String> {
    let s = &*SELECTORS;
    let html_lang = doc.select(&s.html_lang).next().and_then(|h| h.value().attr("lang")).map(str::to_string);
    let meta = || {
        doc.select(&s.meta_http_equiv)
            .find(|m| m.value().attr("http-equiv").is_some_and(|v| v.eq_ignore_ascii_case("content-language")))
            .and_then(|m| m.value().attr("content").map(str::to_string))
    };
    let og = || meta_properties(doc).remove("og:locale");
    let tag = html_lang.or_else(meta).or_else(og)?;
    let primary = tag.trim().split(['-', '_', ',']).next()?.trim().to_ascii_lowercase();
    (primary.len() == 2 && primary.bytes().all(|b| b.is_ascii_lowercase())).then_some(primary)
}

fn has_structured_data(doc: &Html) -> bool {
    let s = &*SELECTORS;
    doc.select(&s.script_type).any(|e| e.value().attr("type").is_some_and(is_json_ld_type))
        || doc.select(&s.itemscope).next().is_some()
        || meta_properties(doc).keys().any(|p| p.starts_with("og:"))
}

fn is_json_ld_type(t: &str) -> bool {
    t.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
}

// ---------------------------------------------------------------------------------------------
// JSON-LD

/// Every `Product` in the page's JSON-LD blocks (in `@graph`s, arrays and nested entities), and
/// whether some block did not parse.
fn json_ld_products(doc: &Html) -> (Vec<Map<String, Value>>, bool) {
    let mut products = Vec::new();
    let mut broken = false;
    for script in doc.select(&SELECTORS.script_type).filter(|s| s.value().attr("type").is_some_and(is_json_ld_type)) {
        let text: String = script.text().collect();
        match parse_json_ld(&text) {
            Some(value) => collect_products(&value, &mut products),
            None => broken = true,
        }
    }
    (products, broken)
}

/// Parses a JSON-LD block, tolerating what sites commonly wrap it in (HTML comments, CDATA,
/// a trailing semicolon).
fn parse_json_ld(text: &str) -> Option<Value> {
    let mut t = text.trim();
    for (open, close) in [("<!--", "-->"), ("//<![CDATA[", "//]]>"), ("<![CDATA[", "]]>")] {
        if let Some(inner) = t.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
            t = inner.trim();
        }
    }
    let t = t.strip_suffix(';').unwrap_or(t);
    serde_json::from_str(t).ok()
}

fn collect_products(value: &Value, out: &mut Vec<Map<String, Value>>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| collect_products(v, out)),
        Value::Object(object) if is_type(object, PRODUCT_TYPES) => out.push(object.clone()),
        Value::Object(object) => object.values().for_each(|v| collect_products(v, out)),
        _ => {}
    }
}

const PRODUCT_TYPES: &[&str] = &["Product", "IndividualProduct", "ProductModel", "SomeProducts"];

/// Whether `@type` (a string or an array; `schema:X` and full IRIs too) names one of `types`.
fn is_type(object: &Map<String, Value>, types: &[&str]) -> bool {
    let names: Vec<&str> = match object.get("@type") {
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => return false,
    };
    names.iter().any(|n| types.contains(&n.rsplit(['/', ':', '#']).next().unwrap_or(n)))
}

// ---------------------------------------------------------------------------------------------
// Microdata

/// Every top-level `itemscope` typed as a schema.org product, as a JSON object like JSON-LD's.
fn microdata_products(doc: &Html) -> Vec<Map<String, Value>> {
    doc.select(&SELECTORS.typed_item)
        .filter(|el| {
            let types = el.value().attr("itemtype").unwrap_or_default();
            types.split_whitespace().any(|t| PRODUCT_TYPES.contains(&t.rsplit(['/', '#']).next().unwrap_or(t)))
        })
        // A product that is the value of another item's property (`isRelatedTo`) is not the page's.
        .filter(|el| el.value().attr("itemprop").is_none())
        .map(microdata_item)
        .collect()
}

fn microdata_item(item: ElementRef<'_>) -> Map<String, Value> {
    let mut object = Map::new();
    if let Some(t) = item.value().attr("itemtype") {
        let t = t.split_whitespace().next().unwrap_or_default();
        object.insert("@type".into(), Value::String(t.rsplit(['/', '#']).next().unwrap_or(t).to_string()));
    }
    collect_properties(item, &mut object);
    object
}

/// The `itemprop`s under `element` that belong to its item (not to a nested `itemscope`).
fn collect_properties(element: ElementRef<'_>, object: &mut Map<String, Value>) {
    for child in element.children().filter_map(ElementRef::wrap) {
        let value = child.value();
        if let Some(props) = value.attr("itemprop") {
            let v = if value.attr("itemscope").is_some() {
                Value::Object(microdata_item(child))
            } else {
                Value::String(microdata_value(child))
            };
            for prop in props.split_whitespace() {
                let name = prop.rsplit(['/', '#']).next().unwrap_or(prop).to_string();
                match object.get_mut(&name) {
                    Some(Value::Array(values)) => values.push(v.clone()),
                    Some(existing) => *existing = Value::Array(vec![existing.take(), v.clone()]),
                    None => {
                        object.insert(name, v.clone());
                    }
                }
            }
        }
        if value.attr("itemscope").is_none() {
            collect_properties(child, object);
        }
    }
}

fn microdata_value(el: ElementRef<'_>) -> String {
    let v = el.value();
    let attr = match v.name() {
        "meta" => v.attr("content"),
        "a" | "link" | "area" => v.attr("href"),
        "img" | "audio" | "video" | "source" | "embed" | "iframe" | "track" => v.attr("src"),
        "object" => v.attr("data"),
        "data" | "meter" => v.attr("value"),
        "time" => v.attr("datetime"),
        _ => v.attr("content"),
    };
    match attr {
        Some(a) => a.trim().to_string(),
        None => normalize_space(&el.text().collect::<String>()),
    }
}

// ---------------------------------------------------------------------------------------------
// OpenGraph

/// `<meta property|name=… content=…>` by lowercased property: the first non-empty content of each.
fn meta_properties(doc: &Html) -> HashMap<String, String> {
    let mut properties = HashMap::new();
    for m in doc.select(&SELECTORS.meta_property_or_name) {
        let v = m.value();
        let (Some(property), Some(content)) = (v.attr("property").or_else(|| v.attr("name")), v.attr("content")) else {
            continue;
        };
        let content = content.trim();
        if !content.is_empty() {
            properties.entry(property.to_ascii_lowercase()).or_insert_with(|| content.to_string());
        }
    }
    properties
}

/// A product from OpenGraph (`og:type` product, or product price tags) in schema.org shape.
fn open_graph_product(doc: &Html) -> Option<Map<String, Value>> {
    let properties = meta_properties(doc);
    let get = |p: &str| properties.get(p).cloned();
    let is_product = get("og:type").is_some_and(|t| t.to_ascii_lowercase().contains("product"))
        || get("product:price:amount").is_some()
        || get("og:price:amount").is_some();
    if !is_product {
        return None;
    }
    let mut object = Map::new();
    object.insert("@type".into(), "Product".into());
    let mut put = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            object.insert(key.into(), Value::String(value));
        }
    };
    put("name", get("og:title"));
    put("description", get("og:description"));
    put("brand", get("product:brand").or_else(|| get("og:brand")));
    put("category", get("product:category"));
    put("image", get("og:image"));
    put("url", get("og:url"));
    put("sku", get("product:retailer_item_id").or_else(|| get("product:sku")));
    let mut offer = Map::new();
    for (key, props) in [
        ("price", ["product:price:amount", "og:price:amount"]),
        ("priceCurrency", ["product:price:currency", "og:price:currency"]),
        ("availability", ["product:availability", "og:availability"]),
    ] {
        if let Some(v) = props.iter().find_map(|p| get(p)) {
            offer.insert(key.into(), Value::String(v));
        }
    }
    if !offer.is_empty() {
        object.insert("offers".into(), Value::Object(offer));
    }
    Some(object)
}

// ---------------------------------------------------------------------------------------------
// schema.org Product → catalog Product

/// Maps a schema.org product to a catalog product; `None` when it has no usable name.
fn to_product(
    object: &Map<String, Value>,
    page: &Url,
    source: Source,
    language: Option<&str>,
    fetched_at: OffsetDateTime,
) -> Option<Product> {
    let title = text(object.get("name"))?;
    let sku = ["sku", "productID", "mpn"].iter().find_map(|k| text(object.get(*k)));
    let host = page.host_str().unwrap_or_default();
    let host = host.strip_prefix("www.").unwrap_or(host);
    let authority = match page.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    let local = sku.clone().unwrap_or_else(|| {
        let mut path = page.path().to_string();
        if let Some(q) = page.query() {
            path.push('?');
            path.push_str(q);
        }
        path
    });
    // `shop.example:SKU-1` by the product's own identifier, else `shop.example/p/1` by its page.
    let mut id = if sku.is_some() { format!("{authority}:{local}") } else { format!("{authority}{local}") };
    if id.len() > MAX_ID_BYTES {
        let mut end = MAX_ID_BYTES;
        while !id.is_char_boundary(end) {
            end -= 1;
        }
        id.truncate(end);
    }
    let mut product = Product::new(id, title);
    product.version = (fetched_at.unix_timestamp_nanos() / 1_000_000).max(1) as u64;
    product.updated_at = Some(fetched_at);
    product.description = text(object.get("description")).unwrap_or_default();
    product.brand = object.get("brand").and_then(|b| text(Some(b)).or_else(|| name_of(b)));
    product.category = category(object.get("category"));
    product.language = language.map(str::to_string);

    let offers = entities(object.get("offers"));
    let prices: Vec<f64> =
        offers.iter().filter_map(|o| number(o.get("price")).or_else(|| number(o.get("lowPrice")))).collect();
    product.price = prices.iter().copied().reduce(f64::min).filter(|p| p.is_finite() && *p >= 0.0);
    // An ISO 4217 code, or none (a page's "$" or "Rs." is not one).
    product.currency = offers
        .iter()
        .find_map(|o| text(o.get("priceCurrency")))
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()));
    let availability: Vec<String> = offers.iter().filter_map(|o| text(o.get("availability"))).collect();
    if !availability.is_empty() {
        product.in_stock = availability.iter().any(|a| in_stock(a));
    }

    if let Some(rating) = entities(object.get("aggregateRating")).first() {
        let best = number(rating.get("bestRating")).filter(|b| *b > 0.0).unwrap_or(5.0);
        if let Some(value) = number(rating.get("ratingValue")) {
            let scaled = value / best * 5.0;
            product.rating = (0.0..=5.0).contains(&scaled).then_some(scaled);
        }
        let count = number(rating.get("reviewCount")).or_else(|| number(rating.get("ratingCount")));
        product.review_count = count.filter(|c| *c >= 0.0).map_or(0, |c| c as u64);
    }

    let mut attributes: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    attributes.insert("source".to_string(), source.as_str().into());
    attributes.insert("vendor_host".to_string(), authority.clone().into());
    let url = text(object.get("url")).and_then(|u| page.join(&u).ok()).unwrap_or_else(|| page.clone());
    attributes.insert("url".to_string(), url.to_string().into());
    if let Some(sku) = sku {
        attributes.insert("sku".to_string(), sku.into());
    }
    let image = object.get("image").and_then(|i| text(Some(i)).or_else(|| first(i).and_then(|o| text(o.get("url")))));
    if let Some(image) = image.and_then(|i| page.join(&i).ok()) {
        attributes.insert("image".to_string(), image.to_string().into());
    }
    for key in ["gtin", "gtin8", "gtin12", "gtin13", "gtin14", "color", "size", "material"] {
        if let Some(v) = text(object.get(key)) {
            attributes.insert(key.trim_end_matches(char::is_numeric).to_string(), v.into());
        }
    }
    product.attributes = attributes;
    product.validate().ok()?;
    Some(product)
}

fn in_stock(availability: &str) -> bool {
    let a = availability.rsplit(['/', ':']).next().unwrap_or(availability).to_ascii_lowercase().replace([' ', '_'], "");
    !matches!(a.as_str(), "outofstock" | "soldout" | "discontinued" | "oos" | "pending")
}

/// A value as trimmed text: a string, a number, the first of an array, or `{"@value": …}`.
fn text(value: Option<&Value>) -> Option<String> {
    let s = match value? {
        Value::String(s) => normalize_space(s),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => return items.iter().find_map(|v| text(Some(v))),
        Value::Object(o) => return text(o.get("@value")),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

fn name_of(value: &Value) -> Option<String> {
    text(first(value)?.get("name"))
}

fn first(value: &Value) -> Option<&Map<String, Value>> {
    match value {
        Value::Object(o) => Some(o),
        Value::Array(items) => items.iter().find_map(Value::as_object),
        _ => None,
    }
}

/// An entity or an array of them.
fn entities(value: Option<&Value>) -> Vec<&Map<String, Value>> {
    match value {
        Some(Value::Object(o)) => vec![o],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    }
}

/// A number, or a price-like string (`"1,299.00"`, `"1.299,00"`, `"₹ 450"`).
fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_number(s),
        Value::Array(items) => items.iter().find_map(|v| number(Some(v))),
        Value::Object(o) => number(o.get("@value")),
        _ => None,
    }
}

fn parse_number(s: &str) -> Option<f64> {
    let digits: String = s.chars().filter(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-')).collect();
    let normalized = match (digits.rfind('.'), digits.rfind(',')) {
        (Some(dot), Some(comma)) if comma > dot => digits.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => digits.replace(',', ""),
        // A lone comma is a thousands separator when three digits follow it, else a decimal one.
        (None, Some(comma)) if digits.len() - comma - 1 != 3 && digits.matches(',').count() == 1 => {
            digits.replace(',', ".")
        }
        (None, Some(_)) => digits.replace(',', ""),
        _ => digits,
    };
    normalized.parse().ok().filter(|n: &f64| n.is_finite())
}

/// A category path: `"A > B > C"`, an array of segments, or a breadcrumb-like list.
fn category(value: Option<&Value>) -> Vec<String> {
    let segments: Vec<String> = match value {
        Some(Value::Array(items)) => items.iter().filter_map(|v| text(Some(v))).collect(),
        Some(v) => text(Some(v)).map(|s| s.split('>').map(normalize_space).collect()).unwrap_or_default(),
        None => Vec::new(),
    };
    segments.into_iter().filter(|s| !s.is_empty()).collect()
}

fn normalize_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn page(html: &str) -> PageAnalysis {
        analyze(&Url::parse("https://www.shop.example/p/1?x=1").unwrap(), html, at())
    }

    #[test]
    fn json_ld_in_a_graph_with_offers_rating_and_brand() {
        let a = page(
            r#"<html lang="en-IN"><head><script type="application/ld+json">
            {"@context":"https://schema.org","@graph":[{"@type":"WebPage","name":"x"},
             {"@type":["Product"],"name":" Red  Shirt ","sku":"S-1","brand":{"@type":"Brand","name":"Roadster"},
              "category":"Men > Topwear","description":"Cotton",
              "offers":[{"@type":"Offer","price":"1,299.00","priceCurrency":"inr","availability":"https://schema.org/OutOfStock"},
                        {"@type":"Offer","price":1499,"availability":"http://schema.org/InStock"}],
              "aggregateRating":{"ratingValue":"8","bestRating":"10","reviewCount":"31"},
              "image":[{"@type":"ImageObject","url":"/img/1.jpg"}]}]}
            </script></head><body><a href="/p/2#top">next</a><a href="mailto:x@y">m</a></body></html>"#,
        );
        assert_eq!(a.source, Some(Source::JsonLd));
        assert_eq!(a.language.as_deref(), Some("en"));
        let p = &a.products[0];
        assert_eq!(p.id, "shop.example:S-1");
        assert_eq!(p.title, "Red Shirt");
        assert_eq!(p.brand.as_deref(), Some("Roadster"));
        assert_eq!(p.category, ["Men", "Topwear"]);
        assert_eq!(p.price, Some(1299.0));
        assert_eq!(p.currency.as_deref(), Some("INR"));
        assert!(p.in_stock);
        assert_eq!(p.rating, Some(4.0));
        assert_eq!(p.review_count, 31);
        assert_eq!(p.attributes["image"], "https://www.shop.example/img/1.jpg");
        assert_eq!(p.version, 1_800_000_000_000);
        assert_eq!(a.links.len(), 1);
        assert_eq!(a.links[0].as_str(), "https://www.shop.example/p/2#top");
    }

    #[test]
    fn microdata_with_nested_items_in_broken_markup() {
        let a = page(
            r#"<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">Tea <b>Leaf</h1></i>
               <p itemprop="description">Strong
               tea</span><span itemprop="brand" itemscope itemtype="https://schema.org/Brand"><span itemprop="name">Tata</span></span>
               <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
                 <meta itemprop="price" content="450"><meta itemprop="priceCurrency" content="INR">
                 <link itemprop="availability" href="https://schema.org/InStock"></div>
               <div itemprop="aggregateRating" itemscope itemtype="https://schema.org/AggregateRating">
                 <span itemprop="ratingValue">4.2</span><span itemprop="reviewCount">7</span>
               <div itemprop="isRelatedTo" itemscope itemtype="https://schema.org/Product"><span itemprop="name">Other</span></div>
               <table><tr><td>unclosed"#,
        );
        assert_eq!(a.source, Some(Source::Microdata));
        assert_eq!(a.products.len(), 1, "{:?}", a.products);
        let p = &a.products[0];
        assert_eq!(p.title, "Tea Leaf");
        assert_eq!(p.brand.as_deref(), Some("Tata"));
        assert_eq!(p.price, Some(450.0));
        assert_eq!(p.rating, Some(4.2));
        assert_eq!(p.review_count, 7);
        assert_eq!(p.id, "shop.example/p/1?x=1");
    }

    #[test]
    fn open_graph_fallback_and_reasons() {
        let a = page(
            r#"<html><head><meta property="og:type" content="product"><meta property="og:title" content="Lamp">
               <meta property="product:price:amount" content="12,50"><meta property="product:price:currency" content="EUR">
               <meta property="product:availability" content="out of stock"><meta property="og:locale" content="de_DE">
               <script type="application/ld+json">{"@type":"Organization","name":"Shop"}</script></head></html>"#,
        );
        assert_eq!(a.source, Some(Source::OpenGraph));
        assert_eq!(a.language.as_deref(), Some("de"));
        assert_eq!(a.products[0].price, Some(12.5));
        assert!(!a.products[0].in_stock);

        let reason = |html: &str| page(html).no_product.map(NoProduct::as_str);
        assert_eq!(reason("<p>hello"), Some("no_structured_data"));
        assert_eq!(
            reason(r#"<script type="application/ld+json">{"@type":"Product","name":</script>"#),
            Some("invalid_json_ld")
        );
        assert_eq!(
            reason(r#"<script type="application/ld+json">{"@type":"ItemList"}</script>"#),
            Some("not_a_product")
        );
        assert_eq!(
            reason(r#"<script type="application/ld+json">{"@type":"Product","sku":"1"}</script>"#),
            Some("incomplete_product")
        );
        let noindex = page(r#"<meta name="ROBOTS" content="noindex, nofollow"><a href="/x">x</a>"#);
        assert_eq!(noindex.no_product, Some(NoProduct::Noindex));
        assert!(noindex.links.is_empty());
    }

    #[test]
    fn prices_in_local_formats() {
        assert_eq!(parse_number("1.299,00 €"), Some(1299.0));
        assert_eq!(parse_number("₹ 1,299"), Some(1299.0));
        assert_eq!(parse_number("$9.99"), Some(9.99));
        assert_eq!(parse_number("12,5"), Some(12.5));
        assert_eq!(parse_number("1,299,000"), Some(1_299_000.0));
        assert_eq!(parse_number("n/a"), None);
    }
}
