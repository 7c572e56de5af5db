//! Revealing a readable secret (the storage flag false) from the secrets panel: which secrets
//! may be revealed, the "Reveal…" button, and the password step (for the secret, or for one of
//! an authorizer's files).

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_location;

use crate::error::AppError;
use crate::secrets::api::RevealSecret;
use crate::secrets::{SecretMeta, SecretState, SecretsView};
use crate::ui::form_token::FormToken;
use crate::ui::{focus_on_show, FieldError, FormError};

/// The secrets an administrator may reveal: valid ones with a sealed copy.
pub(super) fn revealable(v: &SecretsView) -> Vec<SecretMeta> {
    v.current
        .iter()
        .chain(v.previous.iter())
        .filter(|m| m.readable && matches!(m.state, SecretState::Current | SecretState::Rotated))
        .cloned()
        .collect()
}

/// "Reveal…": opens the password step of revealing secret `m` (a step in the URL, so that it
/// works without JavaScript too).
#[component]
pub(super) fn RevealButton(m: SecretMeta) -> impl IntoView {
    view! {
        <Form method="GET" action=here() attr:class="inline">
            <input type="hidden" name="confirm" value="reveal"/>
            <input type="hidden" name="secret" value=m.id.to_string()/>
            <button type="submit" aria-label=format!("Reveal secret …{}", m.hint)>"Reveal…"</button>
        </Form>
    }
}

/// The password step before a secret is revealed: the administrator's own password again.
#[component]
pub(super) fn RevealConfirm(
    m: SecretMeta,
    id: String,
    /// One of an authorizer's files, revealed for that download only; empty for the secret.
    file: String,
    reveal: ServerAction<RevealSecret>,
    err: Signal<Option<AppError>>,
) -> impl IntoView {
    let panel = NodeRef::new();
    focus_on_show(panel);
    let what = if file.is_empty() {
        "Enter your password again. The secret is shown once, and the audit log records who revealed it.".to_string()
    } else {
        format!("Enter your password again to download {file} with the secret filled in. It is offered once, and the audit log records who revealed it, and for which file.")
    };
    view! {
        <div class="confirm-panel" role="dialog" aria-labelledby="reveal-title" node_ref=panel>
            <h3 id="reveal-title" tabindex="-1">{format!("Reveal secret …{}?", m.hint)}</h3>
            <p>{what}</p>
            <ActionForm action=reveal>
                <FormToken/>
                <input type="hidden" name="client_id" value=id.clone()/>
                <input type="hidden" name="secret_id" value=m.id.to_string()/>
                <input type="hidden" name="file" value=file/>
                <label for="reveal-password">"Your password"</label>
                <input id="reveal-password" type="password" name="password" autocomplete="current-password" required/>
                <FieldError err field="password"/>
                <FieldError err field="file"/>
                <button type="submit" class="primary" disabled=move || reveal.pending().get()>"Reveal secret"</button>
                " "
                <a href=here()>"Cancel"</a>
            </ActionForm>
            <FormError err/>
        </div>
    }
}

/// The page the panel is on (a client's, or an authorizer's): where its steps and their
/// "Cancel" lead.
pub(super) fn here() -> String {
    use_location().pathname.get_untracked()
}
