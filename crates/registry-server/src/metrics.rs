//! Prometheus metrics, in the text exposition format at `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

/// How long a request took, from its first byte in to its response's head out.
pub type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 16 s: a report takes a millisecond, a large submission minutes (its
    // response head leaves when the file is applied).
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

pub struct Metrics {
    registry: Registry,
    pub submissions: Family<StatusLabel, Counter>,
    pub records: Family<OutcomeLabel, Counter>,
    pub reports: Counter,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_request_seconds: LatencyFamily,
    pub ingest_seconds: Histogram,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("credit_registry");
        let submissions = Family::<StatusLabel, Counter>::default();
        registry.register("submissions", "Submissions by outcome (applied, duplicate, rejected)", submissions.clone());
        let records = Family::<OutcomeLabel, Counter>::default();
        registry.register("records", "Records of applied submissions, accepted or rejected", records.clone());
        let reports = Counter::default();
        registry.register("reports", "Credit reports served", reports.clone());
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests by method, route and status", http_requests.clone());
        let http_request_seconds: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register("http_request_seconds", "HTTP request latency by method and route", http_request_seconds.clone());
        let ingest_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 16));
        registry.register("ingest_seconds", "Time to ingest one submission", ingest_seconds.clone());
        Metrics { registry, submissions, records, reports, http_requests, http_request_seconds, ingest_seconds }
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        // Encoding into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
