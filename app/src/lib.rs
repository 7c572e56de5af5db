//! Clavis, the Leptos app, compiled for the server (`ssr`) and for the browser (`hydrate`).
//!
//! One folder per domain, each with the same shape:
//! - `mod.rs`: the wire types and the pure rules that both sides share (no I/O);
//! - `api.rs`: the server functions, each one checking its caller (session and role) and its
//!   input, then calling the service;
//! - `ui.rs` or `ui/`: the components and pages;
//! - `service.rs` (server only): the rules that need the store, its transactions and queries.
//!
//! Domains: `accounts`, `audit`, `signin` (console sign-in), `clients`, `secrets`,
//! `authorizers` (gateways and their system clients), `people` (who signs in to apps), and
//! `oauth` (server only: the authorization server's rules, store and keys; its HTTP edge is in
//! the `server` crate). Shared pieces: `error` (the one error type on the wire), `ui` (components that know
//! no domain) and `infra` (server only: database, state, settings, edge checks, sessions,
//! metrics). This file: the HTML shell, the layout and the routes.
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![recursion_limit = "256"]

pub mod accounts;
pub mod attention;
pub mod audit;
pub mod authorizers;
pub mod clients;
pub mod error;
#[cfg(feature = "ssr")]
pub mod infra;
#[cfg(feature = "ssr")]
pub mod oauth;
pub mod people;
pub mod secrets;
pub mod signin;
pub mod ui;
pub mod usage;
pub mod webhooks;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Redirect, Route, Router, Routes, A};
use leptos_router::{path, Lazy, LazyRoute, SsrMode};

use crate::secrets::ui::one_time::{OneTimeSecretDialog, OneTimeSlot};
use crate::signin::ui::AuthCtx;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let split_loader = use_context::<infra::state::AppState>().and_then(|s| s.split_loader);
    #[cfg(not(feature = "ssr"))]
    let split_loader: Option<std::sync::Arc<str>> = None;
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                {split_loader.map(|href| view! { <link rel="modulepreload" href=href.to_string()/> })}
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
        <Title text="Clavis"/>
        <Router>
            <Layout/>
        </Router>
    }
}

#[component]
fn Layout() -> impl IntoView {
    let auth = AuthCtx::provide();
    let one_time = OneTimeSlot::provide();
    let badge = attention::ui::badge_count();
    // While the one-time secret dialog is open, the page behind it is out of reach, for
    // assistive technology too (the modal dialog already makes it inert for pointer and keys).
    let behind = move || one_time.0.with(Option::is_some).then_some("true");
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar" aria-hidden=behind>
            <a href="/overview" class="brand">"Clavis"</a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let me = auth.me.await.ok().flatten();
                    let urgent = badge.await.unwrap_or(0);
                    me.map(|me| {
                        let admin = me.is_admin();
                        view! {
                            <nav aria-label="Main">
                                <attention::ui::OverviewLink count=urgent/>
                                <A href="/clients">"Clients"</A>
                                <A href="/authorizers">"Authorizers"</A>
                                <A href="/webhooks">"Webhooks"</A>
                                <A href="/people">"People"</A>
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
                <Route path=path!("/") view=|| view! { <Redirect path="/overview"/> } ssr=SsrMode::Async/>
                <Route path=path!("/overview") view={Lazy::<OverviewRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/login") view=signin::ui::LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/clients") view={Lazy::<ClientsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/clients/new") view={Lazy::<NewClientRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/clients/:client_id") view={Lazy::<ClientRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/accounts") view={Lazy::<AccountsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/people") view={Lazy::<PeopleRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/authorizers") view={Lazy::<AuthorizersRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/authorizers/:client_id") view={Lazy::<AuthorizerRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/webhooks") view={Lazy::<WebhooksRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/webhooks/:id") view={Lazy::<WebhookRoute>::new()} ssr=SsrMode::Async/>
            </Routes>
            </ErrorBoundary>
        </main>
        <OneTimeSecretDialog/>
    }
}

/// A route whose page is loaded only when it is first shown. With the `split` feature (the
/// release build, `cargo leptos build --split`), the page's code goes to its own WebAssembly
/// chunk, so that the sign-in page, the first page most people load, does not wait for the
/// code of the other pages. Without it, the same route with the page in the main bundle.
macro_rules! lazy_page {
    ($route:ident, $page:path) => {
        struct $route;

        #[cfg(feature = "split")]
        #[leptos_router::lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }
            fn view(this: Self) -> AnyView {
                let $route = this;
                view! { <$page/> }.into_any()
            }
        }

        #[cfg(not(feature = "split"))]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }
            async fn view(this: Self) -> AnyView {
                let $route = this;
                view! { <$page/> }.into_any()
            }
        }
    };
}

lazy_page!(OverviewRoute, attention::ui::OverviewPage);
lazy_page!(ClientsRoute, clients::ui::list::ClientsPage);
lazy_page!(NewClientRoute, clients::ui::new::NewClientPage);
lazy_page!(ClientRoute, clients::ui::detail::ClientPage);
lazy_page!(AuditRoute, audit::ui::AuditLogPage);
lazy_page!(AccountsRoute, accounts::ui::AccountsPage);
lazy_page!(AuthorizersRoute, authorizers::ui::AuthorizersPage);
lazy_page!(PeopleRoute, people::ui::PeoplePage);
lazy_page!(AuthorizerRoute, authorizers::ui::AuthorizerPage);
lazy_page!(WebhooksRoute, webhooks::ui::WebhooksPage);
lazy_page!(WebhookRoute, webhooks::ui::detail::WebhookPage);
