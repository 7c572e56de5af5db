//! Prometheus metrics, exposed as text at `/metrics`.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of a request. Both are bounded: the method is one of the standard ones or `other`
/// (see `method_label`), and a status is a number from 100 to 999.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: &'static str,
    pub status: u16,
}

/// The method label: a standard method, or `other` for anything a client made up, so that
/// nobody can grow the metrics with label values of their own.
pub fn method_label(method: &http::Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|m| *m == method.as_str())
        .unwrap_or("other")
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabels {
    pub outcome: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Histogram,
    pub sign_in_failures: Counter,
    pub sign_in_throttled: Counter,
    /// Token endpoint answers by outcome: `issued` or the OAuth error code.
    pub token_requests: Family<TokenLabels, Counter>,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("clavis");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        let sign_in_failures = Counter::default();
        let sign_in_throttled = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests served, by method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to produce a response, in seconds",
            latency.clone(),
        );
        registry.register(
            "sign_in_failures",
            "Failed sign-in attempts",
            sign_in_failures.clone(),
        );
        registry.register(
            "sign_in_throttled",
            "Sign-in attempts refused by the failure limits",
            sign_in_throttled.clone(),
        );
        let token_requests = Family::<TokenLabels, Counter>::default();
        registry.register(
            "token_requests",
            "Token endpoint answers, by outcome (issued, or the OAuth error code)",
            token_requests.clone(),
        );
        Metrics {
            token_requests,
            registry,
            requests,
            latency,
            sign_in_failures,
            sign_in_throttled,
        }
    }

    pub fn token_outcome(&self, outcome: &'static str) {
        self.token_requests
            .get_or_create(&TokenLabels { outcome })
            .inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
