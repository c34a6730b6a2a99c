//! `searchd keys create|list|revoke`: API keys, stored hashed in the data dir.

use searchd_api::Config;

/// What to do with API keys.
#[derive(clap::Subcommand, Debug)]
pub enum KeysAction {
    /// Create a key and print it; the key itself is shown this once only.
    Create {
        /// `search` (safe in a storefront page), `write`, `admin` (implies both), comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// A label to recognize it by (`searchd keys list`, `revoke`).
        #[arg(long, default_value = "")]
        name: String,
        /// Requests per second this key may send from any address (a service calling from one
        /// IP); without it the per-IP limits of `[rate_limit]` apply, as for a storefront key.
        #[arg(long, value_name = "N")]
        rate: Option<u32>,
        /// A filter expression ANDed to every product search, facet count, autocomplete and
        /// product read of this key, which it cannot lift (`vendor_id = "v42"`: a vendor's
        /// dashboard sees its own products only).
        #[arg(long, value_name = "EXPRESSION")]
        filter: Option<String>,
    },
    /// List the keys: id, name, scopes, creation and revocation times (never the secrets).
    List {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key, by id or by name.
    Revoke { id: String },
}

pub fn run(config: &Config, action: KeysAction) -> anyhow::Result<()> {
    let store = searchd_api::KeyStore::new(&config.data_dir);
    match action {
        KeysAction::Create { scopes, name, rate, filter } => {
            let scopes = scopes
                .iter()
                .map(|s| {
                    searchd_api::Scope::parse(s.trim())
                        .ok_or_else(|| anyhow::anyhow!("unknown scope `{s}` (search, write, admin)"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let (stored, key) = store.create_with(&name, &scopes, rate, filter.as_deref())?;
            let scopes: Vec<&str> = stored.scopes.iter().map(|s| s.name()).collect();
            let rate = stored.rate.map_or_else(|| "the per-IP limits".to_string(), |r| format!("{r} requests/s"));
            let filter = stored.filter.as_deref().map_or_else(String::new, |f| format!(", limited to `{f}`"));
            eprintln!(
                "created key {} ({}) with scopes {} and {rate}{filter}; it is shown only now:",
                stored.id,
                stored.name,
                scopes.join(",")
            );
            println!("{key}");
        }
        KeysAction::List { json } => {
            for key in store.list()? {
                if json {
                    let mut value = serde_json::to_value(&key)?;
                    if let Some(object) = value.as_object_mut() {
                        object.remove("hash");
                    }
                    println!("{value}");
                } else {
                    let scopes: Vec<&str> = key.scopes.iter().map(|s| s.name()).collect();
                    let state = key.revoked_at.as_deref().map_or("active".to_string(), |at| format!("revoked {at}"));
                    let rate = key.rate.map_or_else(|| "per-IP".to_string(), |r| format!("{r}/s"));
                    println!(
                        "{}  {:<20} {:<20} {:<8} created {}  {state}",
                        key.id,
                        key.name,
                        scopes.join(","),
                        rate,
                        key.created_at
                    );
                }
            }
        }
        KeysAction::Revoke { id } => {
            let key = store.revoke(&id)?;
            println!("revoked key {} ({}); running servers refuse it within their reload interval", key.id, key.name);
        }
    }
    Ok(())
}
