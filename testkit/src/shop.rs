//! A generated web shop on a loopback HTTP server, for crawler tests and benches: product pages
//! built from real catalog rows, marked up with JSON-LD, microdata or OpenGraph only, some with
//! broken HTML; listing pages; a gzip sitemap index; robots.txt; and the traps a crawler meets
//! (404s, a redirect loop, a slow page, a 503 with `Retry-After`, invalid JSON-LD). Product pages
//! answer `If-None-Match` with 304. Every request is logged with its arrival time, and the number
//! of requests in flight at once is tracked.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use searchd_catalog::Product;
use serde_json::json;

/// How product pages are marked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markup {
    /// schema.org JSON-LD.
    JsonLd,
    /// schema.org microdata.
    Microdata,
    /// OpenGraph meta tags.
    OpenGraph,
}

/// One product page of the shop and what a crawler should extract from it.
#[derive(Debug, Clone)]
pub struct ShopPage {
    /// The page's path on the shop.
    pub path: String,
    /// The product it shows.
    pub product: Product,
    /// How it is marked up.
    pub markup: Markup,
    /// Whether its HTML is deliberately malformed.
    pub broken_html: bool,
    /// Under a path robots.txt disallows: a polite crawler never asks for it.
    pub disallowed: bool,
}

#[derive(Debug, Clone)]
/// What a generated shop holds and how it behaves.
pub struct ShopSpec {
    /// The products, one page each.
    pub products: Vec<Product>,
    /// The last `disallowed` products live under `/outlet/`, which robots.txt disallows.
    pub disallowed: usize,
    /// `Crawl-delay` in robots.txt, in seconds.
    pub crawl_delay: Option<f64>,
    /// `<html lang>` of every page.
    pub lang: Option<String>,
    /// Serve the trap pages (404s, redirect loop, slow page, 503, invalid JSON-LD).
    pub traps: bool,
    /// How long `/slow` takes to answer.
    pub slow: Duration,
}

impl ShopSpec {
    /// A shop of `products` with nothing disallowed, no Crawl-delay, no declared language and no
    /// traps; tests set the fields they need on top.
    pub fn plain(products: &[Product]) -> Self {
        Self {
            products: products.to_vec(),
            disallowed: 0,
            crawl_delay: None,
            lang: None,
            traps: false,
            slow: Duration::ZERO,
        }
    }
}

/// One request the shop received.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Path and query as requested.
    pub target: String,
    /// When it arrived.
    pub at: Instant,
    /// The status answered.
    pub status: u16,
}

#[derive(Debug)]
struct ShopState {
    pages: Vec<ShopPage>,
    by_path: HashMap<String, usize>,
    spec: ShopSpec,
    base: String,
    log: Mutex<Vec<Hit>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    busy_answered: AtomicBool,
}

/// A running shop; the server stops when the test's runtime does.
#[derive(Debug, Clone)]
pub struct Shop {
    state: Arc<ShopState>,
}

const PER_LISTING: usize = 50;
const PER_SITEMAP: usize = 500;

impl Shop {
    /// Binds a free loopback port and serves the shop on the current Tokio runtime.
    pub async fn start(spec: ShopSpec) -> Shop {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let n = spec.products.len();
        let pages: Vec<ShopPage> = spec
            .products
            .iter()
            .enumerate()
            .map(|(i, product)| {
                let disallowed = i >= n - spec.disallowed.min(n);
                let prefix = if disallowed { "/outlet/p/" } else { "/p/" };
                ShopPage {
                    path: format!("{prefix}{}", product.id),
                    product: product.clone(),
                    markup: [Markup::JsonLd, Markup::Microdata, Markup::OpenGraph][i % 3],
                    broken_html: i % 10 == 7,
                    disallowed,
                }
            })
            .collect();
        let by_path = pages.iter().enumerate().map(|(i, p)| (p.path.clone(), i)).collect();
        let state = Arc::new(ShopState {
            pages,
            by_path,
            spec,
            base: base.clone(),
            log: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            busy_answered: AtomicBool::new(false),
        });
        let app = axum::Router::new().fallback(handle).with_state(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("shop server");
        });
        Shop { state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.state.base
    }

    /// The shop's product pages.
    pub fn pages(&self) -> &[ShopPage] {
        &self.state.pages
    }

    /// Every request so far, in arrival order.
    pub fn hits(&self) -> Vec<Hit> {
        self.state.log.lock().expect("log").clone()
    }

    /// The most requests the shop was serving at one moment.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Paths of the trap pages and what each is.
    pub fn trap_paths() -> &'static [(&'static str, &'static str)] {
        &[
            ("/p/gone-1", "404"),
            ("/p/gone-2", "404"),
            ("/loop/a", "redirect loop a → b → a"),
            ("/slow", "answers after `slow`"),
            ("/busy", "503 with Retry-After: 1 once, then an about page"),
            ("/broken-jsonld", "invalid JSON-LD only"),
            ("/about", "no structured data"),
        ]
    }
}

struct InFlight<'a>(&'a ShopState);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(State(state): State<Arc<ShopState>>, request: Request) -> Response {
    let at = Instant::now();
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let _guard = InFlight(&state);
    let target = request.uri().path_and_query().map_or("/".to_string(), |p| p.to_string());
    let response = route(&state, request.uri().path(), request.headers()).await;
    state.log.lock().expect("log").push(Hit { target, at, status: response.status().as_u16() });
    response
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

async fn route(state: &ShopState, path: &str, headers: &HeaderMap) -> Response {
    let spec = &state.spec;
    let lang = spec.lang.as_deref().map(|l| format!(" lang=\"{l}\"")).unwrap_or_default();
    let listings = state.pages.len().div_ceil(PER_LISTING);
    match path {
        "/robots.txt" => {
            let mut robots = "User-agent: *\nDisallow: /outlet/\nDisallow: /cart\n".to_string();
            if let Some(delay) = spec.crawl_delay {
                robots.push_str(&format!("Crawl-delay: {delay}\n"));
            }
            robots.push_str(&format!("\nUser-agent: BadBot\nDisallow: /\n\nSitemap: {}/sitemap.xml\n", state.base));
            ([(header::CONTENT_TYPE, "text/plain")], robots).into_response()
        }
        "/sitemap.xml" => {
            let maps = state.pages.len().div_ceil(PER_SITEMAP);
            let entries: String = (0..maps)
                .map(|k| format!("<sitemap><loc>{}/sitemaps/products-{k}.xml.gz</loc></sitemap>", state.base))
                .collect();
            let xml = format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>"#
            );
            ([(header::CONTENT_TYPE, "application/xml")], xml).into_response()
        }
        "/" => {
            let mut body = format!("<!DOCTYPE html><html{lang}><head><title>Shop</title></head><body><nav>");
            for k in 0..listings {
                body.push_str(&format!("<a href=\"/c/{k}\">Page {k}</a> "));
            }
            if spec.traps {
                for (trap, _) in Shop::trap_paths() {
                    body.push_str(&format!("<a href=\"{trap}\">{trap}</a> "));
                }
                if let Some(first) = state.pages.first() {
                    body.push_str(&format!("<a href=\"/old{}\">old link</a>", first.path));
                }
                body.push_str(
                    "<a href=\"mailto:shop@example.com\">mail</a><a href=\"https://elsewhere.example/\">partner</a>",
                );
            }
            body.push_str("</nav></body></html>");
            html(body)
        }
        "/loop/a" if spec.traps => redirect("/loop/b"),
        "/loop/b" if spec.traps => redirect("/loop/a"),
        "/slow" if spec.traps => {
            tokio::time::sleep(spec.slow).await;
            html(format!("<html{lang}><body>slow</body></html>"))
        }
        "/busy" if spec.traps && !state.busy_answered.swap(true, Ordering::SeqCst) => {
            (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "1")], "busy").into_response()
        }
        "/busy" | "/about" if spec.traps => html(format!("<html{lang}><body><h1>About us</h1></body></html>")),
        "/broken-jsonld" if spec.traps => html(format!(
            "<html{lang}><head><script type=\"application/ld+json\">{{\"@type\":\"Product\",\"name\": </script></head></html>"
        )),
        _ => {
            if let Some(k) = path.strip_prefix("/c/").and_then(|k| k.parse::<usize>().ok()).filter(|k| *k < listings) {
                return html(listing(state, &lang, k));
            }
            if let Some(k) = path
                .strip_prefix("/sitemaps/products-")
                .and_then(|k| k.strip_suffix(".xml.gz"))
                .and_then(|k| k.parse::<usize>().ok())
            {
                return sitemap(state, k);
            }
            if let Some(target) = path.strip_prefix("/old").filter(|t| state.by_path.contains_key(*t)) {
                return redirect(target);
            }
            match state.by_path.get(path) {
                Some(&i) => product_page(&state.pages[i], i, &lang, headers),
                None => (StatusCode::NOT_FOUND, html("<html><body>Not found</body></html>".into())).into_response(),
            }
        }
    }
}

fn redirect(to: &str) -> Response {
    (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to.to_string())]).into_response()
}

fn listing(state: &ShopState, lang: &str, k: usize) -> String {
    let mut body = format!("<!DOCTYPE html><html{lang}><head><title>Page {k}</title></head><body><ul>");
    for page in state.pages.iter().skip(k * PER_LISTING).take(PER_LISTING) {
        // Tracking parameters and fragments: the same page under other spellings.
        body.push_str(&format!(
            "<li><a href=\"{0}\">{1}</a> <a href=\"{0}?utm_source=listing#reviews\">reviews</a></li>",
            page.path,
            escape(&page.product.title)
        ));
    }
    if (k + 1) * PER_LISTING < state.pages.len() {
        body.push_str(&format!("</ul><a rel=\"next\" href=\"/c/{}\">next</a>", k + 1));
    }
    body.push_str("<a href=\"/cart?from=listing\">cart</a></body></html>");
    body
}

fn sitemap(state: &ShopState, k: usize) -> Response {
    let urls: String = state
        .pages
        .iter()
        .skip(k * PER_SITEMAP)
        .take(PER_SITEMAP)
        .map(|p| format!("<url><loc>{}{}</loc></url>", state.base, p.path))
        .collect();
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>"#
    );
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(xml.as_bytes()).expect("gzip");
    ([(header::CONTENT_TYPE, "application/gzip")], Body::from(gz.finish().expect("gzip"))).into_response()
}

/// Whether the product at position `i` is out of stock on its page.
pub fn out_of_stock(i: usize) -> bool {
    i % 7 == 3
}

/// The review count the page of the product at position `i` shows.
pub fn review_count(i: usize) -> u64 {
    (i as u64 * 37) % 500 + 1
}

fn product_page(page: &ShopPage, i: usize, lang: &str, headers: &HeaderMap) -> Response {
    let body = product_html(page, i, lang);
    let etag = format!("\"{:x}\"", fxhash(body.as_bytes()));
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let mut response = html(body);
    response.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("etag"));
    response
}

fn fxhash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn product_html(page: &ShopPage, i: usize, lang: &str) -> String {
    let p = &page.product;
    let availability = if out_of_stock(i) { "OutOfStock" } else { "InStock" };
    let category = p.category.join(" > ");
    let price = p.price.map(|v| v.to_string()).unwrap_or_default();
    let head_end = if page.broken_html { "" } else { "</head>" };
    let mut out = format!("<!DOCTYPE html><html{lang}><head><title>{}</title>", escape(&p.title));
    match page.markup {
        Markup::JsonLd => {
            let mut product = json!({
                "@type": "Product",
                "name": p.title,
                "sku": p.id,
                "category": category,
                "offers": {"@type": "Offer", "priceCurrency": "INR", "availability": format!("https://schema.org/{availability}")},
            });
            if !p.description.is_empty() {
                product["description"] = json!(p.description);
            }
            if let Some(price) = p.price {
                product["offers"]["price"] = json!(price);
            }
            if let Some(brand) = &p.brand {
                product["brand"] = if i % 2 == 0 { json!({"@type": "Brand", "name": brand}) } else { json!(brand) };
            }
            if let Some(rating) = p.rating {
                product["aggregateRating"] = json!({"@type": "AggregateRating", "ratingValue": rating, "bestRating": 5, "reviewCount": review_count(i)});
            }
            let doc = match (i / 3) % 3 {
                0 => {
                    json!({"@context": "https://schema.org", "@graph": [{"@type": "WebSite", "name": "Shop"}, product]})
                }
                1 => json!([{"@context": "https://schema.org", "@type": "Organization", "name": "Shop"}, product]),
                _ => {
                    let mut product = product;
                    product["@context"] = json!("https://schema.org");
                    product
                }
            };
            let text = serde_json::to_string(&doc).expect("json").replace("</", "<\\/");
            out.push_str(&format!("<script type=\"application/ld+json\">{text}</script>{head_end}<body>"));
            out.push_str(&format!("<h1>{}</h1>", escape(&p.title)));
        }
        Markup::Microdata => {
            out.push_str(&format!("{head_end}<body><div itemscope itemtype=\"https://schema.org/Product\">"));
            out.push_str(&format!("<h1 itemprop=\"name\">{}</h1>", escape(&p.title)));
            out.push_str(&format!("<meta itemprop=\"sku\" content=\"{}\">", escape(&p.id)));
            if let Some(brand) = &p.brand {
                out.push_str(&format!(
                    "<div itemprop=\"brand\" itemscope itemtype=\"https://schema.org/Brand\"><span itemprop=\"name\">{}</span></div>",
                    escape(brand)
                ));
            }
            out.push_str(&format!("<meta itemprop=\"category\" content=\"{}\">", escape(&category)));
            if !p.description.is_empty() {
                out.push_str(&format!("<p itemprop=\"description\">{}</p>", escape(&p.description)));
            }
            out.push_str("<div itemprop=\"offers\" itemscope itemtype=\"https://schema.org/Offer\">");
            out.push_str(&format!("<span itemprop=\"price\" content=\"{price}\">₹{price}</span>"));
            out.push_str("<meta itemprop=\"priceCurrency\" content=\"INR\">");
            out.push_str(&format!("<link itemprop=\"availability\" href=\"https://schema.org/{availability}\"></div>"));
            if let Some(rating) = p.rating {
                out.push_str(&format!(
                    "<div itemprop=\"aggregateRating\" itemscope itemtype=\"https://schema.org/AggregateRating\">\
                     <span itemprop=\"ratingValue\">{rating}</span>/5 from <span itemprop=\"reviewCount\">{}</span> reviews</div>",
                    review_count(i)
                ));
            }
            if page.broken_html {
                // Unclosed and stray tags inside the item: browsers (and html5ever) recover.
                out.push_str("<p><b>Free delivery<i> on orders</span> over ₹500<table><tr><td>size chart");
            }
            out.push_str("</div>");
        }
        Markup::OpenGraph => {
            let mut meta = |property: &str, content: &str| {
                out.push_str(&format!("<meta property=\"{property}\" content=\"{}\">", escape(content)));
            };
            meta("og:type", "product");
            meta("og:title", &p.title);
            if !p.description.is_empty() {
                meta("og:description", &p.description);
            }
            if let Some(brand) = &p.brand {
                meta("product:brand", brand);
            }
            meta("product:category", &category);
            meta("product:retailer_item_id", &p.id);
            if p.price.is_some() {
                meta("product:price:amount", &price);
            }
            meta("product:price:currency", "INR");
            meta("product:availability", if out_of_stock(i) { "out of stock" } else { "in stock" });
            out.push_str(&format!("{head_end}<body><h1>{}</h1>", escape(&p.title)));
        }
    }
    out.push_str("<a href=\"/\">home</a> <a href=\"/cart?add=1\">add to cart</a>");
    if page.broken_html {
        out.push_str("<div><p>Customers also viewed</ul></li>");
    } else {
        out.push_str("</body></html>");
    }
    out
}
