//! `searchd publish`: a file's rows as catalog events on a Kafka topic; and the producer
//! flags `publish` and `crawl` share.

use std::path::PathBuf;

use anyhow::{Context, bail};
use searchd_api::Config;
use searchd_indexer::{FieldMap, InputFormat};
use searchd_kafka::{PublishKind, PublishOptions};

use crate::index::input_format;

/// `searchd publish`.
#[derive(clap::Args, Debug)]
pub struct PublishArgs {
    /// The topic to produce to (created when missing).
    #[arg(long)]
    topic: String,
    /// CSV or JSONL file, gzip or plain.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// `products` and `vendors`: rows become upserts; `events`: JSONL catalog or vendor events,
    /// sent line by line as they are.
    #[arg(long, default_value = "products", value_parser = ["products", "vendors", "events"])]
    kind: String,
    /// Input format of product and vendor rows; guessed from the file name when absent.
    #[arg(long, value_parser = ["csv", "jsonl"])]
    format: Option<String>,
    /// Column mapping, as for `searchd index`.
    #[arg(long, default_value = "")]
    map: String,
    #[command(flatten)]
    pub producer: ProducerArgs,
}

/// How `publish` and `crawl` produce to Kafka.
#[derive(clap::Args, Debug)]
pub struct ProducerArgs {
    /// Brokers (`host:port,...`); default `kafka.brokers`.
    #[arg(long)]
    brokers: Option<String>,
    /// Partitions of the topic when it does not exist yet (it is created).
    #[arg(long, default_value_t = 3)]
    pub partitions: i32,
    /// A librdkafka producer setting, repeatable: `-X linger.ms=0`.
    #[arg(short = 'X', long = "property", value_name = "KEY=VALUE")]
    properties: Vec<String>,
}

impl ProducerArgs {
    /// `--brokers` over `[kafka] brokers`.
    pub fn apply(&mut self, kafka: &mut searchd_kafka::KafkaConfig) {
        if let Some(brokers) = self.brokers.take() {
            kafka.brokers = brokers;
        }
    }

    /// The `-X` settings as pairs.
    pub fn properties(&self) -> anyhow::Result<Vec<(String, String)>> {
        self.properties
            .iter()
            .map(|p| {
                p.split_once('=')
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .with_context(|| format!("-X {p}: expected KEY=VALUE"))
            })
            .collect()
    }
}

pub fn run(config: &Config, args: PublishArgs) -> anyhow::Result<()> {
    let properties = args.producer.properties()?;
    let partitions = args.producer.partitions;
    let PublishArgs { topic, input, kind, format, map, .. } = args;
    let input = input.as_path();
    let kind = match kind.as_str() {
        "vendors" => PublishKind::Vendors,
        "events" => PublishKind::Events,
        _ => PublishKind::Products,
    };
    let format = match format.as_deref() {
        None if kind == PublishKind::Events => InputFormat::Jsonl,
        format => input_format(format, input)?,
    };
    let map: FieldMap = if kind == PublishKind::Vendors { FieldMap::for_vendors(&map)? } else { map.parse()? };
    let options = PublishOptions { topic, kind, format, map, partitions, properties };
    let summary = searchd_kafka::publish(&config.kafka, input, &options)?;
    for error in &summary.errors {
        eprintln!("line {}: skipped: {}", error.line, error.reason);
    }
    println!(
        "published {} of {} rows to {} in {:.2} s ({:.0} events/s); {} failed, {} skipped",
        summary.delivered,
        summary.rows,
        options.topic,
        summary.seconds,
        summary.events_per_second,
        summary.failed,
        summary.skipped
    );
    if summary.failed > 0 {
        bail!("{} messages were not delivered", summary.failed);
    }
    Ok(())
}
