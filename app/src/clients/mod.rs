//! The client registry. So far: the client types with the guided choice (`kind`), the server's
//! input rules (`rules`), and the (empty) list page. Storage and the pages come next.

pub mod kind;
#[cfg(feature = "ssr")]
pub mod rules;

use leptos::prelude::*;

use crate::ui::Guarded;

#[component]
pub fn ClientsPage() -> impl IntoView {
    view! {
        <Guarded>
            <h1>"Clients"</h1>
            <p class="empty">
                "No clients are registered yet. Registering clients and managing their secrets "
                "is the next part of Clavis to arrive."
            </p>
        </Guarded>
    }
}
