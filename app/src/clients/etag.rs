//! Entity tags of clients, for optimistic concurrency (the admin API's `ETag` and `If-Match`).

use super::ClientView;

/// The entity tag of a client as it is now: changes whenever anything about it does.
pub fn etag(client: &ClientView) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(client).unwrap_or_default();
    format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..12]))
}

/// Whether an `If-Match` value (RFC 9110 §13.1.1) matches the entity tag `current`: `*`
/// matches any client that exists; otherwise one of its comma-separated tags must equal
/// `current` by strong comparison, so a weak tag (`W/"…"`) never matches.
pub fn etag_matches(if_match: &str, current: &str) -> bool {
    let if_match = if_match.trim();
    if_match == "*" || if_match.split(',').any(|tag| tag.trim() == current)
}
