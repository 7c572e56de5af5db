//! Prometheus metrics, exposed as text at `/metrics`.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
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

/// The label of a notice window: its length in seconds, one of `secret_expiry_notice` (a
/// handful of values the operator chose).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WindowLabels {
    pub window_seconds: i64,
}

/// The state of the secrets, read from the database when `/metrics` is scraped, so that
/// every replica reports the same numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretGauges {
    /// Current secrets of enabled clients past their expiry: those clients cannot get tokens.
    pub expired: i64,
    /// Per notice window (seconds): current secrets of enabled clients expiring within it.
    pub expiring: Vec<(i64, i64)>,
    /// Rotated secrets used in the last 24 hours.
    pub rotated_in_use: i64,
    /// Enabled clients never used or unused for 90 days.
    pub idle_clients: i64,
}

pub struct Metrics {
    registry: Registry,
    secrets_expired: Gauge,
    secrets_expiring: Family<WindowLabels, Gauge>,
    rotated_in_use: Gauge,
    idle_clients: Gauge,
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
        let secrets_expired = Gauge::default();
        registry.register(
            "client_secrets_expired",
            "Current client secrets past their expiry (their clients cannot get tokens)",
            secrets_expired.clone(),
        );
        let secrets_expiring = Family::<WindowLabels, Gauge>::default();
        registry.register(
            "client_secrets_expiring",
            "Current client secrets that expire within each notice window (secret_expiry_notice)",
            secrets_expiring.clone(),
        );
        let rotated_in_use = Gauge::default();
        registry.register(
            "rotated_secrets_in_use",
            "Rotated client secrets still used in the last 24 hours",
            rotated_in_use.clone(),
        );
        let idle_clients = Gauge::default();
        registry.register(
            "idle_clients",
            "Enabled clients never used, or unused for 90 days",
            idle_clients.clone(),
        );
        Metrics {
            secrets_expired,
            secrets_expiring,
            rotated_in_use,
            idle_clients,
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

    /// Sets the gauges of the secrets to what was just read.
    pub fn set_secrets(&self, g: &SecretGauges) {
        self.secrets_expired.set(g.expired);
        for (window_seconds, n) in &g.expiring {
            self.secrets_expiring
                .get_or_create(&WindowLabels {
                    window_seconds: *window_seconds,
                })
                .set(*n);
        }
        self.rotated_in_use.set(g.rotated_in_use);
        self.idle_clients.set(g.idle_clients);
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
