//! The two fields of a PKCE client's form that are about people signing in: its post-logout
//! redirect URIs and whether it is first-party (no consent screen). Shared by the new-client
//! form and a client's edit form.

use leptos::prelude::*;

use crate::error::AppError;
use crate::ui::FieldError;

#[component]
pub fn SignInFields(
    /// Prefix of the fields' DOM ids, unique on the page.
    prefix: &'static str,
    /// What the client has now (an edit), or nothing (a new client).
    #[prop(optional)]
    post_logout: Vec<String>,
    #[prop(optional)] first_party: bool,
    #[prop(into)] err: Signal<Option<AppError>>,
    /// Disabled fields are not sent: for a type that does not use them.
    #[prop(into, optional)]
    disabled: Signal<bool>,
) -> impl IntoView {
    let (uris, check) = (
        format!("{prefix}-post-logout"),
        format!("{prefix}-first-party"),
    );
    let (uris_hint, check_hint) = (format!("{uris}-hint"), format!("{check}-hint"));
    view! {
        <div class="field">
            <label for=uris.clone()>"Post-logout redirect URIs"</label>
            <textarea id=uris name="input[post_logout_redirect_uris]" rows=2 disabled=disabled
                aria-describedby=uris_hint.clone()>{post_logout.join("\n")}</textarea>
            <small id=uris_hint>"Optional, one per line: where signing out of the app may send people back to. The same rules as redirect URIs."</small>
            <FieldError err field="post_logout_redirect_uris"/>
        </div>
        <div class="field checkbox">
            <input type="checkbox" id=check.clone() name="input[first_party]" value="true"
                checked=first_party disabled=disabled aria-describedby=check_hint.clone()/>
            <label for=check>"First-party: skip consent"</label>
            <small id=check_hint>"Only for your own apps: people who sign in are not asked to agree to what the app asks for."</small>
            <FieldError err field="first_party"/>
        </div>
    }
}
