//! `/clients`: the registered clients, with search, filters, sort and keyset pages.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::status_label;
use crate::clients::api::{list_applications, list_clients};
use crate::clients::kind::ClientType;
use crate::clients::{ApplicationRef, ClientPage, ClientQuery, ClientSort};
use crate::error::AppError;
use crate::signin::ui::{AuthCtx, Guarded};
use crate::ui::{fmt_time, LoadError};

/// The list query as the page's URL carries it: `?q=&type=&status=&sort=&after=`.
fn query_from_url(q: &leptos_router::params::ParamsMap) -> ClientQuery {
    let get = |k: &str| q.get(k).filter(|v| !v.is_empty());
    ClientQuery {
        q: get("q"),
        client_type: get("type").and_then(|t| ClientType::parse(&t)),
        application_id: get("application").and_then(|a| a.parse().ok()),
        enabled: match get("status").as_deref() {
            Some("enabled") => Some(true),
            Some("disabled") => Some(false),
            _ => None,
        },
        sort: if get("sort").as_deref() == Some("newest") {
            ClientSort::Newest
        } else {
            ClientSort::Name
        },
        after: get("after"),
        limit: None,
    }
}

#[component]
pub fn ClientsPage() -> impl IntoView {
    // The resources are made here, once, and not inside `Guarded`'s async block: on the server
    // Leptos may run a Suspense's children again while it waits (`dry_resolve`), and a resource
    // made there would then be made again, shifting the ids the browser uses to find each
    // resource's value when it hydrates. Signed out, the two reads are refused (401) and not shown.
    let query = use_query_map();
    let page = Resource::new(move || query_from_url(&query.read()), list_clients);
    let apps = Resource::new(|| (), |_| list_applications());
    view! {
        <Guarded>
            <ClientList page apps/>
        </Guarded>
    }
}

#[component]
fn ClientList(
    page: Resource<Result<ClientPage, AppError>>,
    apps: Resource<Result<Vec<ApplicationRef>, AppError>>,
) -> impl IntoView {
    let auth = expect_context::<AuthCtx>();
    let query = use_query_map();
    let get = move |k: &str| query.read().get(k).unwrap_or_default();
    let next_href = move |after: String| {
        let mut q = query.get();
        q.replace("after", after);
        format!("/clients{}", q.to_query_string())
    };
    let is_admin = move || auth.is_admin();
    view! {
        <div class="page-head">
            <h1>"Clients"</h1>
            <Show when=is_admin>
                <a class="button-link primary" href="/clients/new">"New client"</a>
            </Show>
        </div>
        <Form method="GET" action="/clients" attr:class="filters" attr:aria-label="Find clients">
            <div class="field">
                <label for="c-q">"Search"</label>
                <input id="c-q" name="q" type="search" maxlength=100 placeholder="Name or client id"
                    value=move || get("q")/>
            </div>
            <div class="field">
                <label for="c-type">"Type"</label>
                <select id="c-type" name="type">
                    <option value="">"Any type"</option>
                    {ClientType::ALL
                        .into_iter()
                        .map(|t| view! {
                            <option value=t.as_str() selected=move || get("type") == t.as_str()>{t.label()}</option>
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="c-app">"Application"</label>
                <select id="c-app" name="application">
                    <option value="">"Any application"</option>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            apps.await.unwrap_or_default().into_iter().map(|a| {
                                let id = a.id.to_string();
                                let selected = {
                                    let id = id.clone();
                                    move || get("application") == id
                                };
                                view! { <option value=id selected=selected>{a.name}</option> }
                            }).collect_view()
                        })}
                    </Transition>
                </select>
            </div>
            <div class="field">
                <label for="c-status">"Status"</label>
                <select id="c-status" name="status">
                    <option value="">"Any status"</option>
                    <option value="enabled" selected=move || get("status") == "enabled">"Enabled"</option>
                    <option value="disabled" selected=move || get("status") == "disabled">"Disabled"</option>
                </select>
            </div>
            <div class="field">
                <label for="c-sort">"Sort by"</label>
                <select id="c-sort" name="sort">
                    <option value="name">"Name"</option>
                    <option value="newest" selected=move || get("sort") == "newest">"Newest first"</option>
                </select>
            </div>
            <button type="submit">"Search"</button>
            <a href="/clients" class="button-link">"Clear"</a>
        </Form>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading clients…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) if p.clients.is_empty() => {
                        let filtered = ["q", "type", "status", "application"].iter().any(|k| !get(k).is_empty());
                        view! {
                            <p class="empty">
                                {if filtered {
                                    "No clients match this search."
                                } else {
                                    "No clients are registered yet. Register each part of your software (web app, SPA, API, worker) as its own client."
                                }}
                            </p>
                        }
                            .into_any()
                    }
                    Ok(p) => {
                        let next = p.next.clone();
                        view! {
                            <table class="data">
                                <caption class="visually-hidden">"Registered clients"</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">"Name"</th>
                                        <th scope="col">"Type"</th>
                                        <th scope="col">"Client ID"</th>
                                        <th scope="col">"Application"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Created"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {p.clients
                                        .into_iter()
                                        .map(|c| view! {
                                            <tr>
                                                <th scope="row">
                                                    <a href=format!("/clients/{}", c.client_id)>{c.name.clone()}</a>
                                                </th>
                                                <td>{c.client_type.label()}</td>
                                                <td><code>{c.client_id.clone()}</code></td>
                                                <td>{c.application.map(|a| a.name).unwrap_or_default()}</td>
                                                <td>{status_label(c.enabled)}</td>
                                                <td>{fmt_time(c.created_at)}</td>
                                            </tr>
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                            <nav class="pager" aria-label="Pages">
                                {(!get("after").is_empty()).then(|| {
                                    let mut q = query.get();
                                    q.remove("after");
                                    view! { <a href=format!("/clients{}", q.to_query_string())>"First page"</a> }
                                })}
                                {next.map(|n| view! { <a href=next_href(n)>"Next page"</a> })}
                            </nav>
                        }
                            .into_any()
                    }
                    Err(e) => view! { <LoadError err=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}
