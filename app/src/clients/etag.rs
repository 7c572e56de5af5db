//! Entity tags of clients, for optimistic concurrency (the admin API's `ETag` and `If-Match`).

use super::ClientView;

/// The entity tag of a client as it is now: changes whenever anything a person or a script
/// can change about it does. Its last use is left out: it moves with every batch of tokens, and
/// a client in use would otherwise never keep an `If-Match` valid.
pub fn etag(client: &ClientView) -> String {
    use sha2::{Digest, Sha256};
    let stable = ClientView {
        last_used_at: None,
        ..client.clone()
    };
    let bytes = serde_json::to_vec(&stable).unwrap_or_default();
    format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..12]))
}

/// Whether an `If-Match` value (RFC 9110 §13.1.1) matches the entity tag `current`: `*`
/// matches any client that exists; otherwise one of its comma-separated tags must equal
/// `current` by strong comparison, so a weak tag (`W/"…"`) never matches.
pub fn etag_matches(if_match: &str, current: &str) -> bool {
    let if_match = if_match.trim();
    if_match == "*" || if_match.split(',').any(|tag| tag.trim() == current)
}
