//! The server's webhook tasks: the dispatcher, the expiry notices and pruning (see
//! `app::webhooks`).

use std::time::Duration;

use app::infra::state::AppState;
use app::webhooks::dispatch::{DispatchSettings, Dispatcher};
use app::webhooks::outbox;

/// How often due expiry notices are looked for.
const NOTICE_INTERVAL: Duration = Duration::from_secs(10);
const PRUNE_INTERVAL: Duration = Duration::from_secs(600);

/// Starts the dispatcher and the notice and prune jobs. Without a key-encryption key (only in
/// tests) there is nothing to sign with, and no dispatcher.
pub fn spawn(state: &AppState) {
    let s = &state.settings;
    let Some(kek) = s.key_encryption_key.clone() else {
        return;
    };
    let settings = DispatchSettings {
        retry_schedule_secs: s.webhook_retry_schedule_secs.clone(),
        allow_private_networks: s.webhook_allow_private_networks,
        retention_secs: s.webhook_retention_secs,
    };
    let dispatcher = match Dispatcher::new(state.db.clone(), kek, settings) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "webhooks: the HTTP client could not be made; no deliveries");
            return;
        }
    };
    tokio::spawn(dispatcher.clone().run());
    let pruner = dispatcher;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PRUNE_INTERVAL);
        loop {
            tick.tick().await;
            if let Err(e) = pruner.prune().await {
                tracing::warn!(error = %e, "webhooks: could not prune old deliveries");
            }
        }
    });
    let st = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(NOTICE_INTERVAL);
        loop {
            tick.tick().await;
            let notices = st.settings.secret_expiry_notice_secs.clone();
            match outbox::notify_expiry(&st.db, &notices, st.db.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(count = n, "webhooks: expiry notices written"),
                Err(e) => tracing::warn!(error = %e, "webhooks: could not write expiry notices"),
            }
        }
    });
}
