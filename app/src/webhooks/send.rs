//! One delivery attempt over HTTP: the client (no redirects, no proxy, a 10-second timeout,
//! names resolved and vetted at each connection so that the connection goes to an address that
//! passed `target::check_ip`), the signed request, and what came of it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::sign;
use super::target::{check_ip, check_url};

/// A delivery's request gives up after this long.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// At most this much of a response is read (and none of it is kept).
const BODY_LIMIT: usize = 4096;

/// Resolves names for deliveries and keeps only the addresses a delivery may reach; the
/// connection then goes to one of those, so a name cannot be re-pointed between check and use.
#[derive(Debug, Clone)]
struct VettingResolver {
    allow_private: bool,
}

impl Resolve for VettingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match check_ip(a.ip(), allow_private) {
                    Ok(()) => true,
                    Err(why) => {
                        refused.get_or_insert(why);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refused.unwrap_or_else(|| format!("{host} has no address"));
                return Err(why.into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// The HTTP client of deliveries: no redirects, no proxy, a 10-second timeout, and names
/// resolved by `VettingResolver`.
pub fn http_client(allow_private: bool) -> Result<reqwest::Client, reqwest::Error> {
    // rustls with ring (aws-lc, which rustls now prefers for post-quantum key exchange, needs a
    // C toolchain at build time); installing it twice is harmless.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .user_agent(concat!("Clavis-Webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(VettingResolver { allow_private })
        .build()
}

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

impl Outcome {
    pub fn delivered(&self) -> bool {
        self.error.is_none()
    }
}

/// The innermost cause of an error, which for a refused address is the resolver's own words.
fn cause(e: &reqwest::Error) -> String {
    let mut last: &dyn std::error::Error = e;
    while let Some(next) = last.source() {
        last = next;
    }
    let text = last.to_string();
    if e.is_timeout() {
        "no answer within 10 seconds".into()
    } else if e.is_connect() && !text.contains("address") {
        format!("could not connect: {text}")
    } else {
        text
    }
}

/// Sends one signed request and reads at most `BODY_LIMIT` bytes of the answer.
pub async fn send(
    client: &reqwest::Client,
    url: &str,
    allow_private: bool,
    keys: &[Vec<u8>],
    event_id: &str,
    body: &str,
    now_secs: i64,
) -> Outcome {
    let started = Instant::now();
    let elapsed = |s: Instant| i64::try_from(s.elapsed().as_millis()).unwrap_or(i64::MAX);
    // Checked again at each attempt: the setting may have changed, and an address written in
    // the URL never reaches the resolver.
    if let Err(why) = check_url(url, allow_private) {
        return Outcome {
            status: None,
            latency_ms: 0,
            error: Some(why),
        };
    }
    let request = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", event_id)
        .header("webhook-timestamp", now_secs.to_string())
        .header(
            "webhook-signature",
            sign::signature_header(keys, event_id, now_secs, body.as_bytes()),
        )
        .body(body.to_string());
    let mut response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            return Outcome {
                status: None,
                latency_ms: elapsed(started),
                error: Some(cause(&e)),
            }
        }
    };
    let status = response.status();
    let mut read = 0usize;
    // The body is drained up to the limit so that the connection can be reused; it is not kept.
    while read < BODY_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            _ => break,
        }
    }
    let latency_ms = elapsed(started);
    let code = Some(i64::from(status.as_u16()));
    if status.is_success() {
        Outcome {
            status: code,
            latency_ms,
            error: None,
        }
    } else if status.is_redirection() {
        Outcome {
            status: code,
            latency_ms,
            error: Some(format!(
                "HTTP {} (redirects are not followed)",
                status.as_u16()
            )),
        }
    } else {
        Outcome {
            status: code,
            latency_ms,
            error: Some(format!("HTTP {}", status.as_u16())),
        }
    }
}
