//! URL normalization, scope and the keys politeness and robots.txt are kept by.

use url::Url;

/// Query parameters that only track where a visitor came from; dropped so one page has one URL.
const TRACKING: &[&str] = &["gclid", "fbclid", "msclkid", "mc_cid", "mc_eid", "_ga", "yclid"];

/// The URL a page is known by: http(s) only, no fragment, no tracking parameters, the other
/// parameters sorted (stable for repeated keys), no empty query. Scheme and host are lowercased,
/// default ports dropped and dot segments resolved by the URL parser itself.
pub fn normalize(url: &Url) -> Option<Url> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    let mut url = url.clone();
    url.set_fragment(None);
    if url.query().is_some() {
        let mut pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !k.starts_with("utm_") && !TRACKING.contains(&k.as_ref()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        if pairs.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    Some(url)
}

/// `scheme://host:port`: robots.txt and politeness are kept per origin (RFC 9309).
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The site a URL belongs to for scope: its host without a leading `www.`.
pub fn site(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    host.strip_prefix("www.").unwrap_or(host).to_string()
}

/// Whether a URL names a sitemap rather than a page (by its file name).
pub fn looks_like_sitemap(url: &Url) -> bool {
    let path = url.path().to_ascii_lowercase();
    path.ends_with(".xml") || path.ends_with(".xml.gz") || path.ends_with("/sitemap") || path.ends_with(".txt.gz")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Option<String> {
        normalize(&Url::parse(s).unwrap()).map(|u| u.to_string())
    }

    #[test]
    fn one_page_one_url() {
        assert_eq!(
            n("HTTP://Shop.Example:80/a/../p/1?b=2&utm_source=x&a=1#reviews").unwrap(),
            "http://shop.example/p/1?a=1&b=2"
        );
        assert_eq!(n("https://shop.example/p?utm_medium=x").unwrap(), "https://shop.example/p");
        assert_eq!(n("https://shop.example").unwrap(), "https://shop.example/");
        assert_eq!(n("https://shop.example/s?q=a%20b&q=c").unwrap(), "https://shop.example/s?q=a+b&q=c");
        assert_eq!(n("ftp://shop.example/x"), None);
        assert_eq!(n("mailto:a@b.c"), None);
    }

    #[test]
    fn origins_and_sites() {
        let u = Url::parse("https://www.shop.example:8443/x").unwrap();
        assert_eq!(origin(&u), "https://www.shop.example:8443");
        assert_eq!(site(&u), "shop.example");
        assert!(looks_like_sitemap(&Url::parse("http://a.b/sitemaps/products-1.xml.gz").unwrap()));
        assert!(!looks_like_sitemap(&Url::parse("http://a.b/p/1").unwrap()));
    }
}
