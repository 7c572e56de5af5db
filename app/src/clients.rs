//! The client registry. For now only the (empty) list page; registration comes next.

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
