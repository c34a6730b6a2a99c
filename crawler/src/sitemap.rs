//! Sitemaps (sitemaps.org): sitemap indexes, URL sets and plain-text lists, gzip or not.

use std::io::Read;

use flate2::read::GzDecoder;

/// What a sitemap lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sitemap {
    /// A sitemap index: more sitemaps.
    Index(Vec<String>),
    /// Page URLs.
    Urls(Vec<String>),
}

/// Decompressed sitemaps larger than this are refused (the protocol's limit is 50 MB).
pub const MAX_SITEMAP_BYTES: u64 = 64 << 20;

/// Parses a sitemap's bytes, gunzipping them when they start with gzip's magic number.
pub fn parse(bytes: &[u8]) -> Result<Sitemap, String> {
    let mut text = String::new();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        GzDecoder::new(bytes)
            .take(MAX_SITEMAP_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot gunzip: {e}"))?;
        if text.len() as u64 > MAX_SITEMAP_BYTES {
            return Err(format!("larger than {MAX_SITEMAP_BYTES} bytes decompressed"));
        }
    } else {
        text = String::from_utf8_lossy(bytes).into_owned();
    }
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if !trimmed.starts_with('<') {
        // A text sitemap: one URL per line.
        let urls = trimmed.lines().map(str::trim).filter(|l| l.starts_with("http")).map(str::to_string).collect();
        return Ok(Sitemap::Urls(urls));
    }
    let doc = roxmltree::Document::parse(trimmed).map_err(|e| format!("invalid XML: {e}"))?;
    let root = doc.root_element();
    let (entry, index) = match root.tag_name().name() {
        "sitemapindex" => ("sitemap", true),
        "urlset" => ("url", false),
        other => return Err(format!("not a sitemap: root element <{other}>")),
    };
    let locs = root
        .children()
        .filter(|n| n.tag_name().name() == entry)
        .filter_map(|n| n.children().find(|c| c.tag_name().name() == "loc"))
        .filter_map(|loc| loc.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    Ok(if index { Sitemap::Index(locs) } else { Sitemap::Urls(locs) })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    #[test]
    fn indexes_url_sets_gzip_and_text() {
        let index = r#"<?xml version="1.0" encoding="UTF-8"?>
            <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <sitemap><loc> https://a.example/s1.xml.gz </loc><lastmod>2026-01-01</lastmod></sitemap>
            </sitemapindex>"#;
        assert_eq!(parse(index.as_bytes()).unwrap(), Sitemap::Index(vec!["https://a.example/s1.xml.gz".into()]));
        let set = r#"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://a.example/p/1?a=1&amp;b=2</loc></url></urlset>"#;
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(set.as_bytes()).unwrap();
        assert_eq!(parse(&gz.finish().unwrap()).unwrap(), Sitemap::Urls(vec!["https://a.example/p/1?a=1&b=2".into()]));
        assert_eq!(
            parse(b"https://a.example/x\n\nhttps://a.example/y\n").unwrap(),
            Sitemap::Urls(vec!["https://a.example/x".into(), "https://a.example/y".into()])
        );
        assert!(parse(b"<html><body>not a sitemap</body></html>").unwrap_err().contains("not a sitemap"));
        assert!(parse(b"<urlset><url>").unwrap_err().contains("invalid XML"));
    }
}
