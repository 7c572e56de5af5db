//! Small building blocks shared by every page: error messages, guards, status pages.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::auth::AuthCtx;
use crate::error::AppError;

/// The message for one field, placed right under it. Its id is `{field}-error`, which the input
/// names in `aria-describedby`.
#[component]
pub fn FieldError(
    #[prop(into)] err: Signal<Option<AppError>>,
    #[prop(into)] field: String,
    /// DOM id, when `{field}-error` would not be unique on the page.
    #[prop(optional, into)]
    id: Option<String>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| format!("{field}-error"));
    view! {
        <p class="field-error" id=id aria-live="polite">
            {move || err.get().and_then(|e| e.field_message(&field))}
        </p>
    }
}

/// An error that is not about one field (wrong password, throttling, conflicts, server faults).
#[component]
pub fn FormError(#[prop(into)] err: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        err.get()
            .filter(|e| !matches!(e, AppError::Validation { field, .. } if field != "form"))
            .map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })
    }
}

/// Renders `children` only for a signed-in account (an admin when `admin` is set). Others are
/// sent to the sign-in page or told that their role does not allow the page. The server
/// functions behind the page check again; this only decides what to show.
#[component]
pub fn Guarded(#[prop(optional)] admin: bool, children: ChildrenFn) -> impl IntoView {
    let auth = expect_context::<AuthCtx>();
    view! {
        <Suspense fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match auth.me.await {
                        Ok(Some(me)) if !admin || me.is_admin() => children().into_any(),
                        Ok(Some(_)) => view! { <Forbidden/> }.into_any(),
                        Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
pub fn Forbidden() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <section class="card">
            <h1>"Not available to your role"</h1>
            <p>"This page is for administrators. Ask an administrator if you need a change made."</p>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <a href="/clients">"Go to the client list"</a> "."</p>
        </section>
    }
}

/// What the error boundary shows when a page fails to render. Every error that reaches it is an
/// `AppError` (safe to show) or a transport failure; internal details never get this far.
#[component]
pub fn ErrorPanel(errors: ArcRwSignal<leptos::error::Errors>) -> impl IntoView {
    view! {
        <section class="card" role="alert">
            <h1>"Something went wrong"</h1>
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
            <p><a href="/clients">"Back to the client list"</a></p>
        </section>
    }
}
