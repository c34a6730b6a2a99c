//! `searchd index`: bulk-index a CSV or JSONL file of products, vendors or offers.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use searchd_api::Config;
use searchd_indexer::{
    FieldMap, IngestOptions, IngestProgress, InputFormat, OfferIndex, ProductIndex, RowError, VendorIndex,
};

/// `searchd index`.
#[derive(clap::Args, Debug)]
pub struct IndexArgs {
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// What the file holds.
    /// Offers are checked against the product and vendor indexes of the data dir: a row naming
    /// an unknown product or vendor is skipped with the reason.
    #[arg(long, default_value = "products", value_parser = ["products", "vendors", "offers"])]
    kind: String,
    /// Input format; guessed from the file name when absent.
    #[arg(long, value_parser = ["csv", "jsonl"])]
    format: Option<String>,
    /// Column mapping, e.g. `id=product_uid,title=title,category=cat+subcat` (vendors:
    /// `name=company,lat=latitude,lon=longitude,service_radius_km=radius,categories=a+b`; offers:
    /// `product_id=sku,vendor_id=seller,price=unit_price`).
    #[arg(long, default_value = "")]
    map: String,
    /// Language (ISO 639-1) of rows without a `language` column value, as a feed declares
    /// its locale; skips per-row detection. Absent: each row's language is detected.
    #[arg(long)]
    lang: Option<String>,
}

/// Indexes the file and prints what was indexed and skipped.
pub fn run(config: &Config, args: IndexArgs) -> anyhow::Result<()> {
    let IndexArgs { input, kind, format, map, lang } = args;
    index(config, &input, &kind, format.as_deref(), &map, lang)
}

struct Bar {
    bar: Option<ProgressBar>,
    errors: u64,
}

impl IngestProgress for Bar {
    fn progress(&mut self, _rows: u64, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(bytes);
        }
    }

    fn row_error(&mut self, error: &RowError) {
        self.errors += 1;
        if self.errors <= 20 {
            let line = format!("line {}: skipped: {}", error.line, error.reason);
            match &self.bar {
                Some(bar) => bar.println(line),
                None => eprintln!("{line}"),
            }
        }
    }
}

/// `--format`, or the format the file name says.
pub fn input_format(format: Option<&str>, input: &Path) -> anyhow::Result<InputFormat> {
    match format {
        Some(f) => Ok(f.parse::<InputFormat>()?),
        None => InputFormat::from_file_name(&input.to_string_lossy())
            .with_context(|| format!("cannot tell the format of {}; pass --format csv|jsonl", input.display())),
    }
}

fn index(
    config: &Config,
    input: &Path,
    kind: &str,
    format: Option<&str>,
    map: &str,
    lang: Option<String>,
) -> anyhow::Result<()> {
    let format = input_format(format, input)?;
    if kind != "products" && lang.is_some() {
        bail!("--lang applies to products only");
    }
    let map: FieldMap = match kind {
        "vendors" => FieldMap::for_vendors(map)?,
        "offers" => FieldMap::for_offers(map)?,
        _ => map.parse()?,
    };
    let file = std::fs::File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    let size = file.metadata()?.len();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let mut progress = Bar { bar, errors: 0 };
    let engine = config.engine();
    let (summary, docs) = match kind {
        "vendors" => {
            let index = VendorIndex::open(&engine.vendor_index_dir(), &config.index)?;
            let summary = searchd_indexer::ingest_vendors(&index, file, format, &map, &mut progress)?;
            (summary, index.num_docs())
        }
        "offers" => {
            let products = ProductIndex::open(&engine.index_dir(), config.index.clone())?;
            let vendors = VendorIndex::open(&engine.vendor_index_dir(), &config.index)?;
            let index = OfferIndex::open(&engine.offer_index_dir(), &config.index)?;
            let known = |offer: &searchd_catalog::Offer| {
                if !products.is_live(&offer.product_id) {
                    Some(format!("product_id: product `{}` does not exist", offer.product_id))
                } else if !vendors.is_live(&offer.vendor_id) {
                    Some(format!("vendor_id: vendor `{}` does not exist", offer.vendor_id))
                } else {
                    None
                }
            };
            let summary = searchd_indexer::ingest_offers(&index, file, format, &map, &known, &mut progress)?;
            (summary, index.num_docs())
        }
        _ => {
            let index = ProductIndex::open(&engine.index_dir(), config.index.clone())?;
            let options = IngestOptions { map, language: lang };
            let summary = searchd_indexer::ingest(&index, file, format, &options, &mut progress)?;
            (summary, index.num_docs())
        }
    };
    if let Some(bar) = &progress.bar {
        bar.finish_and_clear();
    }
    if progress.errors > 20 {
        eprintln!("… and {} more skipped rows", progress.errors - 20);
    }
    println!(
        "indexed {} of {} rows in {:.2} s ({:.0} docs/s), merged segments in {:.2} s ({:.2} s in all); {} skipped; index holds {} {kind}",
        summary.indexed,
        summary.rows,
        summary.seconds,
        summary.docs_per_second,
        summary.merge_seconds,
        summary.seconds + summary.merge_seconds,
        summary.skipped_total(),
        docs
    );
    for (reason, count) in &summary.skipped {
        println!("  skipped {count}: {reason}");
    }
    Ok(())
}
