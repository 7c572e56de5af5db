//! The secret lifetime field of the create and edit forms, for the types with a secret.

use leptos::prelude::*;

use crate::error::AppError;
use crate::ui::FieldError;

/// `input[secret_lifetime]`, in seconds; empty follows the server's policy. `prefix` makes the
/// ids unique on the page (`c`, `e`).
#[component]
pub fn SecretLifetimeField(
    prefix: &'static str,
    value: Option<i64>,
    err: Signal<Option<AppError>>,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    let id = format!("{prefix}-secret-lifetime");
    let hint = format!("{prefix}-secret-lifetime-hint");
    view! {
        <div class="field">
            <label for=id.clone()>"Secret lifetime (seconds)"</label>
            <input id=id type="number" min="60" step="1" inputmode="numeric"
                name="input[secret_lifetime]" value=value.map(|v| v.to_string())
                placeholder="server policy" disabled=disabled
                aria-describedby=format!("{hint} secret_lifetime-error")/>
            <small id=hint>
                "How long each new secret of this client stays valid: 7776000 is 90 days, 2592000 is 30 days. \
                 Empty follows the server's policy (secret_max_lifetime), which is also the longest allowed. \
                 A change applies from the next secret on."
            </small>
            <FieldError err=err field="secret_lifetime"/>
        </div>
    }
}
