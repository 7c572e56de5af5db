//! The client registry's pages.
//!
//! - `list`: `/clients`, with search, filters, sort and keyset pages.
//! - `new`: `/clients/new`, the guided choice of a type, and the architecture presets.
//! - `application`: the application picker of the create and edit forms.
//! - `lifetime`: the secret lifetime field of both forms.
//! - `sign_in`: the post-logout redirect URIs and first-party fields of both forms.
//! - `detail`: `/clients/{client_id}`, with editing, disabling and deleting; the secrets panel
//!   on it is `secrets::ui::panel`.

pub mod application;
pub mod detail;
pub mod lifetime;
pub mod list;
pub mod new;
pub mod sign_in;

/// "Enabled" or "Disabled", for a client's status.
pub fn status_label(enabled: bool) -> &'static str {
    if enabled {
        "Enabled"
    } else {
        "Disabled"
    }
}
