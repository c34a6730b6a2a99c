//! The vendor index: its own Tantivy index (vendors and products never share a query), with
//! idempotent versioned writes as for products and geo search.
//!
//! Geo search has two steps. Every branch of a vendor (its location first) is indexed as one
//! grid cell id per level of [`CELL_LEVELS`] (a `u64` term each); a radius or box query first
//! selects the documents in the cells covering its bounding box (a term-set prefilter, at most
//! [`MAX_COVER_CELLS`] cells at the finest level that fits), then the collector checks the exact
//! great-circle distance (or box) on the `lat`/`lon` fast fields — or, for the vendors with more
//! branches or zones, on their prepared [`coverage`] — and keeps the top hits by distance or
//! relevance. Where a vendor serves is indexed too, as the cells covering each branch's circle
//! and each zone's box (flagged service cells): "who serves this point" looks up the point's
//! cell at every level, then checks each candidate exactly.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use searchd_catalog::filter::Filter;
use searchd_catalog::geo::{CELL_LEVELS, GeoRect, cell_id, cover, haversine_km, morton_key};
use searchd_catalog::{
    GeoPoint, Vendor, VendorHit, VendorSearchRequest, VendorSearchResponse, VendorSort, WriteOutcome,
};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, EmptyQuery, FuzzyTermQuery, Occur, Query,
    TermQuery,
};
use tantivy::schema::{FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema};
use tantivy::{DocAddress, DocId, Index, Score, SegmentOrdinal, SegmentReader, TantivyDocument, Term};

use crate::analysis::{Analyzer, FieldTokenizer, Language, tagged};
use crate::any_term::AnyTermQuery;
use crate::config::IndexConfig;
use crate::writer::{Opened, Store, VersionedWriter, open_dir, open_parts, parse_source};
use crate::{Error, Result};

mod coverage;
pub(crate) mod ingest;
mod rfi;
mod settings;

pub(crate) use coverage::area_cells;
pub use settings::VendorServed;

/// Cells a geo query may look up: the finest indexed level whose cover of the query's box has
/// at most this many cells is used.
pub const MAX_COVER_CELLS: usize = 128;

/// Words of a vendor query that count; the rest are ignored.
pub const MAX_QUERY_WORDS: usize = 32;
/// The score of a name or body word that the word being typed only starts.
pub const PREFIX_WEIGHT: f32 = 0.5;

const GEO_KEY: &str = "geo_key";

/// Vendor documents are kept in [`morton_key`] order (in each segment and across merges), so
/// that a region's vendors have neighbouring doc ids: geo queries then read a few compact runs of
/// fast-field values, postings and stored documents instead of scattered ones.
fn settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        sort_by_field: Some(tantivy::IndexSortByField { field: GEO_KEY.into(), order: tantivy::Order::Asc }),
        ..tantivy::IndexSettings::default()
    }
}

#[derive(Debug, Clone, Copy)]
struct VendorFields {
    id: Field,
    version: Field,
    name: Field,
    body_exact: Field,
    body_stem: Field,
    category: Field,
    cells: Field,
    lat: Field,
    lon: Field,
    radius: Field,
    rating: Field,
    reviews: Field,
    available: Field,
    /// [`morton_key`] of the location: the index keeps documents sorted by it.
    geo_key: Field,
    source: Field,
    /// Declared attributes' values, as products hold theirs.
    attrs: Field,
    /// Declared attributes' presence, `null` and emptiness.
    attr_state: Field,
}

impl VendorFields {
    fn schema() -> (Schema, Self) {
        let mut b = Schema::builder();
        let text = crate::schema::words_options;
        let fields = Self {
            id: b.add_text_field(crate::schema::ID, STRING | STORED | FAST),
            version: b.add_u64_field(crate::schema::VERSION, FAST | STORED),
            name: b.add_text_field("name", text(FieldTokenizer::EXACT)),
            body_exact: b.add_text_field("body_exact", text(FieldTokenizer::EXACT)),
            body_stem: b.add_text_field("body_stem", text(FieldTokenizer::STEM)),
            category: b.add_facet_field("category", FacetOptions::default()),
            cells: b.add_u64_field("cells", INDEXED),
            lat: b.add_f64_field("lat", FAST),
            lon: b.add_f64_field("lon", FAST),
            radius: b.add_f64_field("radius", FAST),
            rating: b.add_f64_field("rating", FAST),
            reviews: b.add_u64_field("reviews", FAST),
            available: b.add_bool_field("available", INDEXED | FAST),
            geo_key: b.add_u64_field(GEO_KEY, FAST),
            source: b.add_text_field("source", STORED),
            attrs: b.add_json_field(crate::schema::ATTRS, crate::schema::attrs_options()),
            attr_state: b.add_text_field("attr_state", STRING),
        };
        (b.build(), fields)
    }
}

/// See the module documentation.
pub struct VendorIndex {
    store: Store,
    analyzer: Analyzer,
    fields: VendorFields,
    views: settings::VendorViews,
    /// Sprawling vendors' coverage per segment (see [`coverage`]).
    coverage: coverage::KeptCoverage,
}

impl std::fmt::Debug for VendorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorIndex").finish_non_exhaustive()
    }
}

impl VendorIndex {
    /// Opens the vendor index in `dir`, creating it when the folder holds none.
    pub fn open(dir: &Path, config: &IndexConfig) -> Result<Self> {
        let (schema, fields) = VendorFields::schema();
        Self::with_index(open_dir(dir, schema, settings())?, fields, config, &dir.display().to_string())
    }

    /// A throw-away vendor index in memory, for tests and benches.
    pub fn in_memory(config: &IndexConfig) -> Result<Self> {
        let (schema, fields) = VendorFields::schema();
        let index = Index::builder().schema(schema).settings(settings()).create_in_ram()?;
        Self::with_index(index, fields, config, "memory")
    }

    fn with_index(index: Index, fields: VendorFields, config: &IndexConfig, location: &str) -> Result<Self> {
        let Opened { writer, reader, default_language } = open_parts(&index, config, location, fields.id)?;
        let analyzer = Analyzer::new(default_language);
        // A new index takes the configured attributes as the first settings (version 1, as
        // products' do); afterwards the committed settings rule.
        let served: VendorServed = match writer.settings.clone() {
            Some(payload) => serde_json::from_value(payload)?,
            None if writer.is_empty() && !config.vendor_attributes.0.is_empty() => VendorServed {
                version: 1,
                settings: searchd_catalog::settings::VendorSettings { attributes: config.vendor_attributes.clone() },
                generation: 1,
            },
            None => VendorServed::default(),
        };
        let views = settings::VendorViews::new(served);
        Ok(Self {
            store: Store::new(config, reader, writer, "vendor"),
            analyzer,
            fields,
            views,
            coverage: coverage::KeptCoverage::default(),
        })
    }

    /// Copies the last commit's files (this index is stored in `source`) into `dest`, while
    /// searches and writes go on.
    pub fn snapshot(&self, source: &Path, dest: &Path) -> Result<crate::CopiedIndex> {
        self.store.snapshot(source, dest)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, VersionedWriter>> {
        self.store.lock()
    }

    /// Live vendors visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.store.num_docs()
    }

    /// Writes vendors (normalized, see [`Vendor::normalize`], and validated first; the first
    /// invalid one fails the call before anything is written). Idempotent by id and version, as
    /// for products; visible after the next commit (by count, by
    /// [`commit_if_due`](Self::commit_if_due) or by [`commit`](Self::commit)).
    pub fn upsert(&self, mut vendors: Vec<Vendor>) -> Result<Vec<WriteOutcome>> {
        let mut state = self.lock()?;
        // Settings change under the writer lock: these are the ones writes hold now.
        let held = self.settings();
        for v in &mut vendors {
            v.normalize();
            v.validate()?;
            held.settings.attributes.typed(&v.attributes)?;
        }
        let mut outcomes = Vec::with_capacity(vendors.len());
        for mut vendor in vendors {
            let id = vendor.id.clone();
            outcomes.push(state.upsert(&id, vendor.version, |version| {
                vendor.version = version;
                self.document(&vendor, &[held.as_ref()])
            })?);
        }
        self.commit_if_full(&mut state)?;
        Ok(outcomes)
    }

    /// A vendor's document, its declared attributes held under each of `held`.
    fn document(&self, v: &Vendor, held: &[&VendorServed]) -> Result<TantivyDocument> {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &v.id);
        doc.add_u64(f.version, v.version);
        doc.add_text(f.name, &v.name);
        let body = [v.description.as_str(), v.capabilities.as_str(), &v.tags.join(" "), &v.categories.join(" ")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        doc.add_text(f.body_exact, &body);
        // Stemmed in the vendor's first language when we have its stemmer, else the default.
        let language =
            v.languages.first().and_then(|l| Language::from_code(l)).unwrap_or(self.analyzer.default_language());
        doc.add_text(f.body_stem, tagged(&body, language));
        for path in &v.categories {
            doc.add_facet(f.category, Facet::from_path(path.split('/').map(str::trim)));
        }
        // Every branch's cells: geo prefilters find a vendor by any of its branches.
        let branches = std::iter::once(v.location).chain(v.locations.iter().map(|b| b.point()));
        let mut cells: Vec<u64> = branches.flat_map(|at| CELL_LEVELS.map(|level| cell_id(at, level))).collect();
        cells.sort_unstable();
        cells.dedup();
        for cell in cells {
            doc.add_u64(f.cells, cell);
        }
        if !v.locations.is_empty() || !v.service_areas.is_empty() {
            doc.add_text(f.attr_state, coverage::COVERAGE_MARK);
        }
        // Where it serves: the cells of every branch's circle and zone's box.
        for cell in coverage::service_cells(&v.coverage()?) {
            doc.add_u64(f.cells, cell);
        }
        doc.add_text(f.attr_state, coverage::SERVED_MARK);
        doc.add_f64(f.lat, v.location.lat);
        doc.add_f64(f.lon, v.location.lon);
        doc.add_f64(f.radius, v.service_radius_km);
        if let Some(rating) = v.rating {
            doc.add_f64(f.rating, rating);
        }
        doc.add_u64(f.reviews, v.review_count);
        doc.add_bool(f.available, v.available);
        doc.add_u64(f.geo_key, morton_key(v.location));
        doc.add_text(f.source, serde_json::to_string(v)?);
        self.add_attributes(&mut doc, v, held)?;
        Ok(doc)
    }

    /// Deletes a vendor; the version is remembered so older upserts stay out.
    pub fn delete(&self, id: &str, version: u64) -> Result<WriteOutcome> {
        self.store.delete(id, version)
    }

    /// Whether the id exists and is live in the written (maybe not yet committed) state.
    pub fn is_live(&self, id: &str) -> bool {
        self.store.is_live(id)
    }

    fn commit_if_full(&self, state: &mut VersionedWriter) -> Result<()> {
        self.store.commit_if_full(state)
    }

    /// Commits when writes are pending and the commit interval has passed. Returns whether it did.
    pub fn commit_if_due(&self) -> Result<bool> {
        self.store.commit_if_due()
    }

    /// Commits pending writes and makes them visible.
    pub fn commit(&self) -> Result<()> {
        self.store.commit()
    }

    /// The configuration the index was opened with.
    pub fn config(&self) -> &IndexConfig {
        &self.store.config
    }

    /// Merges every segment into one (after a bulk load).
    pub fn merge_segments(&self) -> Result<()> {
        self.store.merge_all()
    }

    /// The stored vendor with this id, as of the last commit.
    pub fn get(&self, id: &str) -> Result<Vendor> {
        self.store.get((self.fields.id, self.fields.source), id, Error::VendorNotFound)
    }

    fn load(&self, searcher: &tantivy::Searcher, address: DocAddress) -> Result<Vendor> {
        parse_source(&searcher.doc(address)?, self.fields.source)
    }

    /// Runs a validated vendor search and loads the page's vendors.
    pub fn search(&self, request: &VendorSearchRequest) -> Result<VendorSearchResponse> {
        let started = Instant::now();
        let (searcher, served) = self.view();
        // `collect` validates (page × per_page ≤ the result window) before using the limit;
        // saturating, so an absurd page is refused there instead of overflowing here.
        let (total, top) = self.collect(&searcher, &served, request, request.page.saturating_mul(request.per_page))?;
        let hits = top
            .into_iter()
            .skip((request.page - 1) * request.per_page)
            .map(|h| {
                Ok(VendorHit {
                    vendor: self.load(&searcher, h.address)?,
                    distance_km: h.distance_km,
                    nearest_branch: h.branch,
                    score: h.score,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(VendorSearchResponse {
            total_hits: total,
            page: request.page,
            per_page: request.per_page,
            hits,
            took_ms: started.elapsed().as_secs_f64() * 1e3,
        })
    }

    /// The ids (with distance and score) of the best `limit` hits and the total, without
    /// loading documents: what tests and benches compare against brute force.
    pub fn search_ids(&self, request: &VendorSearchRequest, limit: usize) -> Result<(u64, Vec<GeoHitId>)> {
        let (searcher, served) = self.view();
        let (total, top) = self.collect(&searcher, &served, request, limit)?;
        Ok((total, self.hit_ids(&searcher, top)?))
    }

    /// The hits with their ids, read from the id fast field (each segment's ordinals looked up
    /// together).
    fn hit_ids(&self, searcher: &tantivy::Searcher, top: Vec<GeoHit>) -> Result<Vec<GeoHitId>> {
        let mut ids = vec![String::new(); top.len()];
        let mut by_segment: HashMap<SegmentOrdinal, Vec<usize>> = HashMap::new();
        for (i, h) in top.iter().enumerate() {
            by_segment.entry(h.address.segment_ord).or_default().push(i);
        }
        for (segment, hits) in by_segment {
            let column = searcher.segment_reader(segment).fast_fields().str(crate::schema::ID)?;
            let column = column.ok_or_else(|| Error::Internal("id is not a fast field".into()))?;
            let (mut at, mut ords) = (Vec::with_capacity(hits.len()), Vec::with_capacity(hits.len()));
            for i in hits {
                if let Some(ord) = column.term_ords(top[i].address.doc_id).next() {
                    at.push(i);
                    ords.push(ord);
                }
            }
            for (i, id) in at.into_iter().zip(crate::writer::terms_of(&column, &ords)?) {
                ids[i] = id;
            }
        }
        Ok(top
            .into_iter()
            .zip(ids)
            .map(|(h, id)| GeoHitId { id, distance_km: h.distance_km, nearest_branch: h.branch, score: h.score })
            .collect())
    }

    /// The words of `q` (plain text: no query syntax), each matching the name (weighted twice),
    /// or the body as written or by stem; a vendor matches when any word does, and scores by
    /// BM25 over them all. With `prefix=last`, the word being typed (the last, of at least
    /// [`PrefixMode::MIN_CHARS`](searchd_catalog::PrefixMode::MIN_CHARS) characters, `q` not
    /// ending in a space) also matches the name and body words it starts, as a constant of
    /// [`PREFIX_WEIGHT`] (below a whole word's BM25).
    fn text_query(&self, q: &str, prefix: searchd_catalog::PrefixMode) -> Box<dyn Query> {
        let f = self.fields;
        let mut words = self.analyzer.query_terms(q, self.analyzer.default_language());
        let typing = words.len() <= MAX_QUERY_WORDS && words.last().is_some_and(|w| prefix.typing(q, &w.exact));
        words.truncate(MAX_QUERY_WORDS);
        if words.is_empty() {
            return Box::new(EmptyQuery);
        }
        let term = |field, text: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs))
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = words
            .iter()
            .flat_map(|w| {
                [
                    Box::new(BoostQuery::new(term(f.name, &w.exact), 2.0)) as Box<dyn Query>,
                    term(f.body_exact, &w.exact),
                    Box::new(BoostQuery::new(term(f.body_stem, &w.stem), 0.9)),
                ]
            })
            .map(|q| (Occur::Should, q))
            .collect();
        if let Some(last) = words.last().filter(|_| typing) {
            let starts: Vec<Box<dyn Query>> = [f.name, f.body_exact]
                .into_iter()
                .map(|field| {
                    let prefix = FuzzyTermQuery::new_prefix(Term::from_field_text(field, &last.exact), 0, true);
                    Box::new(prefix) as Box<dyn Query>
                })
                .collect();
            let starts = DisjunctionMaxQuery::new(starts);
            clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(starts), PREFIX_WEIGHT))));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// The query of a vendor filter (declared vendor attributes only), resolved against the
    /// settings the searcher is complete for; the error names `filter` and the column.
    pub(super) fn filter_query(
        &self,
        filter: Option<&Filter>,
        served: &VendorServed,
    ) -> Result<Option<Box<dyn Query>>> {
        let Some(filter) = filter else { return Ok(None) };
        let resolved = filter
            .resolve_attributes(&served.settings.attributes)
            .map_err(|e| searchd_catalog::Error::invalid("filter", e.to_string()))?;
        let query = crate::search::filter::attribute_filter(
            self.fields.attrs,
            self.fields.attr_state,
            &resolved,
            served.generation,
        );
        Ok(Some(Box::new(ConstScoreQuery::new(query, 0.0))))
    }

    fn collect(
        &self,
        searcher: &tantivy::Searcher,
        served: &VendorServed,
        request: &VendorSearchRequest,
        limit: usize,
    ) -> Result<(u64, Vec<GeoHit>)> {
        request.validate()?;
        let f = self.fields;
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(filter) = self.filter_query(request.filter.as_ref(), served)? {
            must.push((Occur::Must, filter));
        }
        let text = !request.q.trim().is_empty();
        if text {
            must.push((Occur::Must, self.text_query(&request.q, request.prefix)));
        }
        let radius = request.near.zip(request.radius_km);
        // The box the cells must cover: the radius's, else the caller's.
        let region = radius.map(|(c, r)| GeoRect::around(c, r)).or(request.bbox);
        if let Some(region) = region {
            let cells = cover(&region, MAX_COVER_CELLS);
            let terms = cells.into_iter().map(|c| Term::from_field_u64(f.cells, c));
            must.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(AnyTermQuery::new(terms)), 0.0))));
        }
        if let Some(p) = request.serves
            && self.service_cells_complete(searcher)?
        {
            let terms = coverage::cells_serving(p).map(|c| Term::from_field_u64(f.cells, c));
            must.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(AnyTermQuery::new(terms)), 0.0))));
        }
        if let Some(category) = &request.category {
            let term = Term::from_facet(f.category, &Facet::from_path(category.split('/').map(str::trim)));
            // A facet term matches the path and every path below it.
            let query = TermQuery::new(term, IndexRecordOption::Basic);
            must.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(query), 0.0))));
        }
        let query: Box<dyn Query> =
            if must.is_empty() { Box::new(AllQuery) } else { Box::new(BooleanQuery::new(must)) };
        let geo = request.near.is_some() || request.bbox.is_some() || request.serves.is_some();
        let coverage = if geo { self.coverage(searcher)? } else { Vec::new() };
        let spec = GeoSpec {
            center: request.near,
            radius_km: request.radius_km,
            min_km: request.min_km,
            serves: request.serves,
            bbox: request.bbox,
            by_distance: request.sort == VendorSort::Distance,
            limit,
        };
        let collector = GeoTop { coverage: &coverage, spec, scoring: text && request.sort == VendorSort::Relevance };
        Ok(searcher.search(query.as_ref(), &collector)?)
    }
}

/// A hit without its document.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoHitId {
    /// The vendor's id.
    pub id: String,
    /// Distance from the search's `near` to the nearest branch, kilometres.
    pub distance_km: Option<f64>,
    /// That branch.
    pub nearest_branch: Option<GeoPoint>,
    /// Text relevance.
    pub score: f32,
}

#[derive(Debug, Clone, Copy)]
struct GeoHit {
    address: DocAddress,
    distance_km: Option<f64>,
    branch: Option<GeoPoint>,
    score: Score,
    /// Smaller is better: the distance, or the negated score.
    key: f64,
    /// Ties: nearer first, then document order.
    tie: f64,
}

impl PartialEq for GeoHit {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GeoHit {}

impl PartialOrd for GeoHit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GeoHit {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.total_cmp(&other.key).then(self.tie.total_cmp(&other.tie)).then(self.address.cmp(&other.address))
    }
}

/// Keeps the best `limit` hits that pass the exact geo checks, and counts them all.
struct GeoTop<'a> {
    /// Per segment: the vendors with branches or zones (empty without a geo query).
    coverage: &'a [Arc<coverage::SegmentCoverage>],
    spec: GeoSpec,
    scoring: bool,
}

/// What a hit must pass and how hits are kept.
#[derive(Clone, Copy)]
struct GeoSpec {
    center: Option<GeoPoint>,
    radius_km: Option<f64>,
    min_km: Option<f64>,
    serves: Option<GeoPoint>,
    bbox: Option<GeoRect>,
    by_distance: bool,
    limit: usize,
}

struct GeoTopSegment {
    segment: SegmentOrdinal,
    lat: Column<f64>,
    lon: Column<f64>,
    radius: Column<f64>,
    coverage: Option<Arc<coverage::SegmentCoverage>>,
    spec: GeoSpec,
    /// Max-heap: the worst kept hit on top.
    heap: BinaryHeap<GeoHit>,
    total: u64,
}

impl Collector for GeoTop<'_> {
    type Fruit = (u64, Vec<GeoHit>);
    type Child = GeoTopSegment;

    fn for_segment(&self, segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<GeoTopSegment> {
        let ff = reader.fast_fields();
        Ok(GeoTopSegment {
            segment,
            lat: ff.f64("lat")?,
            lon: ff.f64("lon")?,
            radius: ff.f64("radius")?,
            coverage: self.coverage.get(segment as usize).filter(|c| !c.is_empty()).cloned(),
            spec: self.spec,
            heap: BinaryHeap::new(),
            total: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scoring
    }

    fn merge_fruits(&self, fruits: Vec<(u64, Vec<GeoHit>)>) -> tantivy::Result<(u64, Vec<GeoHit>)> {
        let total = fruits.iter().map(|f| f.0).sum();
        let mut all: Vec<GeoHit> = fruits.into_iter().flat_map(|f| f.1).collect();
        all.sort_unstable();
        all.truncate(self.spec.limit);
        Ok((total, all))
    }
}

impl SegmentCollector for GeoTopSegment {
    type Fruit = (u64, Vec<GeoHit>);

    fn collect(&mut self, doc: DocId, score: Score) {
        let (Some(lat), Some(lon)) = (self.lat.first(doc), self.lon.first(doc)) else { return };
        let at = GeoPoint { lat, lon };
        // A vendor with branches is where its branches are: in the box when one is, as far as
        // its nearest.
        let sprawl = self.coverage.as_ref().and_then(|c| c.get(&doc));
        let inside = |b: &GeoRect| match sprawl {
            None => b.contains(at),
            Some(c) => c.branches.iter().any(|(p, _)| b.contains(*p)),
        };
        if self.spec.bbox.as_ref().is_some_and(|b| !inside(b)) {
            return;
        }
        if let Some(p) = self.spec.serves {
            let served = match sprawl {
                Some(coverage) => coverage.serves(p),
                None => self.radius.first(doc).is_some_and(|r| haversine_km(at, p) <= r),
            };
            if !served {
                return;
            }
        }
        let nearest = self.spec.center.map(|c| match sprawl {
            None => (at, haversine_km(c, at)),
            Some(coverage) => {
                let reach = coverage.reach(c);
                (reach.branch, reach.distance_km)
            }
        });
        let distance = nearest.map(|n| n.1);
        if let Some(d) = distance
            && (self.spec.radius_km.is_some_and(|r| d > r) || self.spec.min_km.is_some_and(|m| d < m))
        {
            return;
        }
        self.total += 1;
        if self.spec.limit == 0 {
            return;
        }
        let near = distance.unwrap_or(0.0);
        let hit = GeoHit {
            address: DocAddress::new(self.segment, doc),
            distance_km: distance,
            branch: nearest.map(|n| n.0),
            score,
            key: if self.spec.by_distance { near } else { -f64::from(score) },
            tie: if self.spec.by_distance { 0.0 } else { near },
        };
        if self.heap.len() < self.spec.limit {
            self.heap.push(hit);
        } else if self.heap.peek().is_some_and(|worst| hit < *worst) {
            self.heap.pop();
            self.heap.push(hit);
        }
    }

    fn harvest(self) -> Self::Fruit {
        (self.total, self.heap.into_vec())
    }
}
