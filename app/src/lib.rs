//! Clavis, the Leptos app: pages, components and server functions, compiled for the server
//! (`ssr`) and for the browser (`hydrate`). Server-only code lives under `ssr`.
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![recursion_limit = "256"]

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod clients;
pub mod error;
pub mod model;
pub mod secrets;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Redirect, Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

use crate::auth::AuthCtx;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/clavis.css"/>
        <Title text="Clavis"/>
        <Router>
            <Layout/>
        </Router>
    }
}

#[component]
fn Layout() -> impl IntoView {
    let auth = AuthCtx::provide();
    let one_time = secrets::OneTimeSlot::provide();
    // While the one-time secret dialog is open, the page behind it is out of reach, for
    // assistive technology too (the modal dialog already makes it inert for pointer and keys).
    let behind = move || one_time.0.with(Option::is_some).then_some("true");
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar" aria-hidden=behind>
            <a href="/clients" class="brand">"Clavis"</a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    auth.me.await.ok().flatten().map(|me| {
                        let admin = me.is_admin();
                        view! {
                            <nav aria-label="Main">
                                <A href="/clients">"Clients"</A>
                                <A href="/audit">"Audit log"</A>
                                {admin.then(|| view! { <A href="/accounts">"Accounts"</A> })}
                            </nav>
                            <div class="who">
                                <span class="user">
                                    {me.username.clone()}
                                    <span class="role">{me.role.label()}</span>
                                </span>
                                <ActionForm action=auth.logout>
                                    <button type="submit">"Sign out"</button>
                                </ActionForm>
                            </div>
                        }
                    })
                })}
            </Transition>
        </header>
        <main id="main" tabindex="-1" aria-hidden=behind>
            <ErrorBoundary fallback=|errors| view! { <ui::ErrorPanel errors/> }>
            <Routes fallback=|| view! { <ui::NotFound/> }>
                <Route path=path!("/") view=|| view! { <Redirect path="/clients"/> } ssr=SsrMode::Async/>
                <Route path=path!("/login") view=auth::LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/clients") view=clients::ClientsPage ssr=SsrMode::Async/>
                <Route path=path!("/clients/new") view=clients::NewClientPage ssr=SsrMode::Async/>
                <Route path=path!("/clients/:client_id") view=clients::ClientPage ssr=SsrMode::Async/>
                <Route path=path!("/audit") view=audit::AuditLogPage ssr=SsrMode::Async/>
                <Route path=path!("/accounts") view=accounts::AccountsPage ssr=SsrMode::Async/>
            </Routes>
            </ErrorBoundary>
        </main>
        <secrets::OneTimeSecretDialog/>
    }
}
