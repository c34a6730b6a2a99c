//! `searchd crawl`: crawl web shops into the index or onto Kafka, or archive old pages; and
//! the page-retention schedule `serve` runs.

use anyhow::{Context, bail};
use searchd_api::Config;

mod orchestrate;

use orchestrate::CrawlTarget;

use crate::publish::ProducerArgs;

/// `searchd crawl`.
#[derive(clap::Args, Debug)]
pub struct CrawlArgs {
    /// Start URLs: shop pages, or sitemaps (by file name: `.xml`, `.xml.gz`).
    #[arg(long, num_args = 1.., required_unless_present = "retention")]
    seeds: Vec<String>,
    /// Stop after fetching this many pages (overrides `[crawler] max_pages`).
    #[arg(long)]
    max_pages: Option<u64>,
    /// Where products go: `index` (this data dir's index; no server may be running on it) or
    /// `kafka` (the topic serving nodes consume). Default: kafka when `[kafka] enabled`, else index.
    #[arg(long, value_parser = ["index", "kafka"])]
    publish: Option<String>,
    /// Kafka topic (default: the first of `[kafka] product_topics`).
    #[arg(long)]
    topic: Option<String>,
    #[command(flatten)]
    pub producer: ProducerArgs,
    /// Archive crawled pages older than `[crawler] retention_days`, then exit.
    #[arg(long, conflicts_with = "seeds")]
    retention: bool,
}

pub fn spawn_page_retention(config: &Config) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let config = config.clone();
    let schedule = config.crawler.retention_schedule.clone();
    searchd_engine::schedule::spawn_schedule(
        "page retention",
        &schedule,
        std::sync::Arc::new(searchd_engine::schedule::SystemClock),
        std::time::Duration::from_secs(30),
        move || {
            if !config.engine().crawl_dir().exists() {
                return Ok(());
            }
            let summary = orchestrate::apply_retention(&config)?;
            tracing::info!(archived = summary.archived, kept = summary.kept, archive = ?summary.archive, "page retention");
            Ok(())
        },
    )
}

pub fn run(config: &Config, args: CrawlArgs) -> anyhow::Result<()> {
    if args.retention {
        let summary = orchestrate::apply_retention(config)?;
        match &summary.archive {
            Some(path) => println!("archived {} pages to {}; {} stay", summary.archived, path.display(), summary.kept),
            None => println!("nothing older than {} days; {} pages stay", config.crawler.retention_days, summary.kept),
        }
        return Ok(());
    }
    let to_kafka = match args.publish.as_deref() {
        Some(target) => target == "kafka",
        None => config.kafka.enabled,
    };
    let target = if to_kafka {
        let topic = match args.topic {
            Some(topic) => topic,
            None => {
                config.kafka.product_topics.first().cloned().context("[kafka] product_topics is empty; pass --topic")?
            }
        };
        CrawlTarget::Kafka { topic, partitions: args.producer.partitions, properties: args.producer.properties()? }
    } else {
        CrawlTarget::Index
    };
    let report = orchestrate::crawl(config, &args.seeds, args.max_pages, target)?;
    let c = &report.crawl;
    let list = |m: &std::collections::BTreeMap<String, u64>| {
        if m.is_empty() {
            "none".to_string()
        } else {
            m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
        }
    };
    println!(
        "crawled {} pages ({} requests) in {:.2} s ({:.1} pages/s): {} with products, {} products to {} ({} failed)",
        c.fetched,
        c.requests,
        c.seconds,
        c.pages_per_second,
        c.extracted,
        report.published,
        report.published_to,
        report.publish_failed
    );
    println!("skipped: {}", list(&c.skipped));
    println!("errors: {}", list(&c.errors));
    if c.frontier_left > 0 {
        println!("{} URLs left in the frontier (page limit)", c.frontier_left);
    }
    println!("{}", serde_json::to_string(&report)?);
    if report.publish_failed > 0 && report.published == 0 {
        bail!("no product could be published");
    }
    Ok(())
}
