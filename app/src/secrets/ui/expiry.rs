//! How a secret's lifetime and use read on a client's page: its expiry, its share of the
//! requests, and the first line of the page when the client can no longer get tokens.

use leptos::prelude::*;

use crate::secrets::{fmt_duration, SecretMeta, SecretsView};
use crate::ui::fmt_time;

/// "2026-12-24 10:00:00 UTC (in 20 days)", "expired 2026-12-01 …", or "never".
pub fn expiry_text(m: &SecretMeta) -> String {
    match (m.expires_at, m.days_left) {
        (Some(at), Some(0)) => format!("expired {}", fmt_time(at)),
        (Some(at), days) => {
            let days = days.unwrap_or(0);
            format!(
                "{} (in {days} day{})",
                fmt_time(at),
                if days == 1 { "" } else { "s" }
            )
        }
        (None, _) => "never".into(),
    }
}

/// "85% of requests in the last 7 days", when the client made any with a secret.
pub fn share_text(m: &SecretMeta) -> Option<String> {
    m.share_pct
        .map(|p| format!("{p}% of requests in the last 7 days"))
}

/// What the next secret's lifetime will be, in words.
pub fn lifetime_text(v: &SecretsView) -> String {
    match v.lifetime_secs {
        Some(secs) => format!(
            "New secrets of this client expire {} after they are made.",
            fmt_duration(secs)
        ),
        None => "New secrets of this client do not expire.".into(),
    }
}

/// The first line of a client's page when it cannot get tokens with a secret.
#[component]
pub fn CannotAuthenticate(v: SecretsView) -> impl IntoView {
    v.cannot_authenticate.then(|| {
        let why = match v.current.as_ref().and_then(|c| c.expires_at) {
            Some(at) => format!(
                "This client can no longer get tokens: its secret expired {}. Rotate the secret to give it a new one, then deploy it.",
                fmt_time(at)
            ),
            None => "This client can no longer get tokens: it has no current secret. Create one to give it a secret, then deploy it.".into(),
        };
        view! { <p class="banner danger" id="cannot-authenticate">{why}</p> }
    })
}
