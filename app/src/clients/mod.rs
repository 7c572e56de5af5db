//! The client registry. So far: the client types with the guided choice (`kind`), the server's
//! input rules (`rules`), and the (empty) list page. Storage and the pages come next.

pub mod kind;
pub mod presets;
#[cfg(feature = "ssr")]
pub mod rules;

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use kind::ClientType;

use crate::auth::AuthCtx;
use crate::error::AppError;
use crate::model::fmt_time;
use crate::secrets::{IssuedSecretOnce, OneTimeSecrets, OneTimeSlot, SecretsPanel};
use crate::ui::{FieldError, FormError, Guarded};

/// The longest client name, in characters (the server's rules enforce it).
pub const NAME_MAX: usize = 100;

/// The application a client belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationRef {
    pub id: i64,
    pub name: String,
}

/// A registered client as the console shows it. Never holds a secret or a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    pub description: String,
    pub client_type: ClientType,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    /// The `aud` of this client's access tokens; `None` means the server's default.
    pub audience: Option<String>,
    pub enabled: bool,
    pub application: Option<ApplicationRef>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

/// What a person fills in to create or edit a client. Lists are raw text: redirect URIs one per
/// line, scopes separated by spaces; the server parses and checks them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientInput {
    pub name: String,
    pub description: String,
    pub client_type: String,
    pub redirect_uris: String,
    pub scopes: String,
    /// Client credentials only; empty means the server's default.
    pub audience: String,
    pub application_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientSort {
    #[default]
    Name,
    Newest,
}

/// Search, filters, order and the keyset cursor of the client list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientQuery {
    /// Case-insensitive name prefix, or an exact client id.
    pub q: Option<String>,
    pub client_type: Option<ClientType>,
    pub application_id: Option<i64>,
    pub enabled: Option<bool>,
    pub sort: ClientSort,
    /// Opaque cursor from the previous page's `next`.
    pub after: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientPage {
    pub clients: Vec<ClientView>,
    pub next: Option<String>,
}

#[server(endpoint = "clients/list")]
pub async fn list_clients(query: ClientQuery) -> Result<ClientPage, AppError> {
    use crate::ssr::{clients, edge};
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        clients::list(&st.db, &query).await
    })
    .await
}

#[server(endpoint = "clients/applications")]
pub async fn list_applications() -> Result<Vec<ApplicationRef>, AppError> {
    use crate::ssr::{clients, edge};
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        clients::applications(&st.db).await
    })
    .await
}

#[server(endpoint = "clients/get")]
pub async fn get_client(client_id: String) -> Result<ClientView, AppError> {
    use crate::ssr::{clients, edge};
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        clients::get(&st.db, &client_id).await
    })
    .await
}

/// The answer to a creation: the client, and for a confidential one its first secret, shown
/// once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCreated {
    pub client: ClientView,
    pub one_time_secrets: Vec<IssuedSecretOnce>,
    pub done_href: String,
}

impl ClientCreated {
    fn one_time(self) -> OneTimeSecrets {
        OneTimeSecrets {
            one_time_secrets: self.one_time_secrets,
            done_href: self.done_href,
        }
    }
}

#[server(endpoint = "clients/create")]
pub async fn create_client(input: ClientInput) -> Result<ClientCreated, AppError> {
    use crate::ssr::{clients, edge};
    crate::secrets::no_store();
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(crate::model::Role::Admin)).await?;
        let (client, secret) = clients::create_issuing(&st.db, &me.username, &meta, &input).await?;
        let done_href = format!("/clients/{}", client.client_id);
        // Without JavaScript, a client with a secret gets the one-time page instead (see
        // `ssr::one_time_page`); one without goes straight to its page.
        edge::redirect_plain_form(&done_href);
        Ok(ClientCreated {
            client,
            one_time_secrets: secret.into_iter().collect(),
            done_href,
        })
    })
    .await
}

#[server(endpoint = "clients/update")]
pub async fn update_client(client_id: String, input: ClientInput) -> Result<ClientView, AppError> {
    use crate::ssr::{clients, edge};
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(crate::model::Role::Admin)).await?;
        clients::update(&st.db, &me.username, &meta, &client_id, &input).await
    })
    .await
}

#[server(endpoint = "clients/enabled")]
pub async fn set_client_enabled(client_id: String, enabled: bool) -> Result<ClientView, AppError> {
    use crate::ssr::{clients, edge};
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(crate::model::Role::Admin)).await?;
        clients::set_enabled(&st.db, &me.username, &meta, &client_id, enabled).await
    })
    .await
}

#[server(endpoint = "clients/delete")]
pub async fn delete_client(client_id: String, confirm_name: String) -> Result<(), AppError> {
    use crate::ssr::{clients, edge};
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(crate::model::Role::Admin)).await?;
        clients::delete(&st.db, &me.username, &meta, &client_id, &confirm_name).await?;
        edge::redirect_plain_form("/clients");
        Ok(())
    })
    .await
}

fn status_label(enabled: bool) -> &'static str {
    if enabled {
        "Enabled"
    } else {
        "Disabled"
    }
}

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
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The answer to a preset: the application, and the first secrets of its confidential clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresetCreated {
    pub application: ApplicationRef,
    pub one_time_secrets: Vec<IssuedSecretOnce>,
    pub done_href: String,
}

#[server(endpoint = "clients/preset")]
pub async fn create_preset(
    application_name: String,
    clients: Vec<ClientInput>,
) -> Result<PresetCreated, AppError> {
    use crate::ssr::{clients as svc, edge};
    crate::secrets::no_store();
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(crate::model::Role::Admin)).await?;
        let (application, _, one_time_secrets) =
            svc::create_with_application(&st.db, &me.username, &meta, &application_name, &clients)
                .await?;
        let done_href = format!("/clients?application={}", application.id);
        edge::redirect_plain_form(&done_href);
        Ok(PresetCreated {
            application,
            one_time_secrets,
            done_href,
        })
    })
    .await
}

#[component]
fn PresetReview(preset: presets::Preset) -> impl IntoView {
    let create = ServerAction::<CreatePreset>::new();
    let err = Signal::derive(move || create.value().get().and_then(Result::err));
    let slot = expect_context::<OneTimeSlot>();
    Effect::new(move |_| {
        if let Some(Ok(done)) = create.value().get() {
            slot.show_then_go(OneTimeSecrets {
                one_time_secrets: done.one_time_secrets,
                done_href: done.done_href,
            });
        }
    });
    view! {
        <h1>{format!("New application: {}", preset.title)}</h1>
        <p class="lede">{preset.summary} " Review the proposed clients; everything is created together, or nothing is."</p>
        <ActionForm action=create attr:class="card client-form">
            <div class="field">
                <label for="p-app">"Application name"</label>
                <input id="p-app" name="application_name" required maxlength=NAME_MAX aria-describedby="application_name-error"/>
                <FieldError err=err field="application_name"/>
            </div>
            {preset
                .clients
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let f = move |k: &str| format!("clients[{i}][{k}]");
                    let key = move |k: &str| format!("clients.{i}.{k}");
                    view! {
                        <fieldset class="proposed">
                            <legend>{c.artifact}</legend>
                            <p><strong>{c.client_type.label()}</strong> ". " {c.why}</p>
                            <input type="hidden" name=f("client_type") value=c.client_type.as_str()/>
                            <div class="field">
                                <label for=format!("p-{i}-name")>{format!("Name of the {}", c.artifact.to_lowercase())}</label>
                                <input id=format!("p-{i}-name") name=f("name") required maxlength=NAME_MAX value=c.name/>
                                <FieldError err=err field=key("name") id=format!("p-{i}-name-error")/>
                            </div>
                            {c.client_type.uses_redirect_uris().then(|| view! {
                                <div class="field">
                                    <label for=format!("p-{i}-redirects")>{format!("Redirect URIs of the {}", c.artifact.to_lowercase())}</label>
                                    <textarea id=format!("p-{i}-redirects") name=f("redirect_uris") rows=2>{c.redirect_uris}</textarea>
                                    <FieldError err=err field=key("redirect_uris") id=format!("p-{i}-redirects-error")/>
                                </div>
                            })}
                            {(c.client_type == ClientType::ClientCredentials).then(|| view! {
                                <div class="field">
                                    <label for=format!("p-{i}-scopes")>{format!("Scopes of the {}", c.artifact.to_lowercase())}</label>
                                    <input id=format!("p-{i}-scopes") name=f("scopes") value=c.scopes/>
                                    <FieldError err=err field=key("scopes") id=format!("p-{i}-scopes-error")/>
                                </div>
                            })}
                        </fieldset>
                    }
                })
                .collect_view()}
            <FormError err=err/>
            <button type="submit" class="primary" disabled=move || create.pending().get()>"Create application and clients"</button>
            " "
            <a href="/clients/new">"Cancel"</a>
        </ActionForm>
    }
}

/// The newest events about one client, for its page.
#[server(endpoint = "clients/audit")]
pub async fn client_audit(client_id: String) -> Result<crate::model::AuditPage, AppError> {
    use crate::ssr::{audit, edge};
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        let filter = crate::model::AuditFilter {
            target: Some(client_id),
            ..Default::default()
        };
        audit::query(&st.db, &filter).await
    })
    .await
}

#[component]
pub fn ClientPage() -> impl IntoView {
    view! {
        <Guarded>
            <ClientDetail/>
        </Guarded>
    }
}

#[component]
fn ClientDetail() -> impl IntoView {
    let auth = expect_context::<AuthCtx>();
    let params = leptos_router::hooks::use_params_map();
    let client_id = move || params.read().get("client_id").unwrap_or_default();
    let update = ServerAction::<UpdateClient>::new();
    let toggle = ServerAction::<SetClientEnabled>::new();
    let delete = ServerAction::<DeleteClient>::new();
    let client = Resource::new(
        move || (client_id(), update.version().get(), toggle.version().get()),
        |(id, _, _)| get_client(id),
    );
    let secret_changes = RwSignal::new(0u32);
    let trail = Resource::new(
        move || {
            (
                client_id(),
                update.version().get(),
                toggle.version().get(),
                secret_changes.get(),
            )
        },
        |(id, ..)| client_audit(id),
    );
    Effect::new(move |_| {
        if matches!(delete.value().get(), Some(Ok(()))) {
            leptos_router::hooks::use_navigate()("/clients", Default::default());
        }
    });
    let is_admin = move || auth.is_admin();
    let update_err = Signal::derive(move || update.value().get().and_then(Result::err));
    let delete_err = Signal::derive(move || delete.value().get().and_then(Result::err));
    let toggle_err = Signal::derive(move || toggle.value().get().and_then(Result::err));
    let saved = move || matches!(update.value().get(), Some(Ok(_))).then_some("Changes saved.");

    view! {
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading client…"</p> }>
            {move || Suspend::new(async move {
                let c = match client.await {
                    Ok(c) => c,
                    Err(e) => return view! {
                        <h1>"Client"</h1>
                        <p class="form-error" role="alert">{e.to_string()}</p>
                        <p><a href="/clients">"Back to the client list"</a></p>
                    }.into_any(),
                };
                let id = c.client_id.clone();
                let kind = c.client_type;
                view! {
                    <p><a href="/clients">"← All clients"</a></p>
                    <h1>{c.name.clone()}</h1>
                    <p class="status" role="status">{saved}</p>
                    <FormError err=toggle_err/>
                    <dl class="facts">
                        <dt>"Client ID"</dt>
                        <dd>
                            <code id="client-id">{id.clone()}</code>
                            " "
                            <CopyButton text=id.clone() label="Copy client ID"/>
                        </dd>
                        <dt>"Type"</dt>
                        <dd>{kind.label()} <small>" — " {kind.implication()}</small></dd>
                        <dt>"Status"</dt>
                        <dd>{status_label(c.enabled)}</dd>
                        <dt>"Application"</dt>
                        <dd>{c.application.clone().map(|a| a.name).unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Description"</dt>
                        <dd class="pre">{if c.description.is_empty() { "—".to_string() } else { c.description.clone() }}</dd>
                        {kind.uses_redirect_uris().then(|| view! {
                            <dt>"Redirect URIs"</dt>
                            <dd><ul class="plain">{c.redirect_uris.iter().map(|u| view! { <li><code>{u.clone()}</code></li> }).collect_view()}</ul></dd>
                        })}
                        {(kind == ClientType::ClientCredentials).then(|| view! {
                            <dt>"Scopes"</dt>
                            <dd>{c.scopes.iter().map(|s| view! { <code class="tag">{s.clone()}</code> " " }).collect_view()}</dd>
                            <dt>"Token audience"</dt>
                            <dd>{match c.audience.clone() {
                                Some(a) => view! { <code>{a}</code> }.into_any(),
                                None => view! { <span>"The server's default"</span> }.into_any(),
                            }}</dd>
                        })}
                        <dt>"Grant types"</dt>
                        <dd>{kind.grant_types().join(", ")}</dd>
                        <dt>"Token endpoint authentication"</dt>
                        <dd>{kind.token_endpoint_auth_methods().join(", ")}</dd>
                        <dt>"Created"</dt>
                        <dd>{format!("{} by {}", fmt_time(c.created_at), c.created_by)}</dd>
                        <dt>"Last changed"</dt>
                        <dd>{format!("{} by {}", fmt_time(c.updated_at), c.updated_by)}</dd>
                    </dl>
                }.into_any()
            })}
        </Transition>
        <SecretsPanel client_id=Signal::derive(client_id) admin=Signal::derive(is_admin) changes=secret_changes/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(c) = client.await else { return ().into_any() };
                let admin = is_admin();
                let id = c.client_id.clone();
                let kind = c.client_type;
                view! {
                    {admin.then(|| {
                        let (id1, id2, id3) = (id.clone(), id.clone(), id.clone());
                        let name = c.name.clone();
                        view! {
                            <section class="card" aria-labelledby="edit-title">
                                <h2 id="edit-title">"Edit"</h2>
                                <ActionForm action=update attr:class="client-form">
                                    <input type="hidden" name="client_id" value=id1/>
                                    <input type="hidden" name="input[client_type]" value=kind.as_str()/>
                                    <div class="field">
                                        <label for="e-name">"Name"</label>
                                        <input id="e-name" name="input[name]" required maxlength=NAME_MAX value=c.name.clone()/>
                                        <FieldError err=update_err field="name"/>
                                    </div>
                                    <div class="field">
                                        <label for="e-description">"Description"</label>
                                        <textarea id="e-description" name="input[description]" rows=2 prop:value=c.description.clone()>{c.description.clone()}</textarea>
                                        <FieldError err=update_err field="description"/>
                                    </div>
                                    {kind.uses_redirect_uris().then(|| view! {
                                        <div class="field">
                                            <label for="e-redirects">"Redirect URIs"</label>
                                            <textarea id="e-redirects" name="input[redirect_uris]" rows=3>{c.redirect_uris.join("\n")}</textarea>
                                            <FieldError err=update_err field="redirect_uris"/>
                                        </div>
                                    })}
                                    {(kind == ClientType::ClientCredentials).then(|| view! {
                                        <div class="field">
                                            <label for="e-scopes">"Scopes"</label>
                                            <input id="e-scopes" name="input[scopes]" value=c.scopes.join(" ")/>
                                            <FieldError err=update_err field="scopes"/>
                                        </div>
                                        <div class="field">
                                            <label for="e-audience">"Token audience"</label>
                                            <input id="e-audience" name="input[audience]" value=c.audience.clone().unwrap_or_default()
                                                aria-describedby="e-audience-hint audience-error"/>
                                            <small id="e-audience-hint">"The aud claim of this client's access tokens. Leave empty for the server's default."</small>
                                            <FieldError err=update_err field="audience"/>
                                        </div>
                                    })}
                                    <p><small>"The type cannot change. To use another type, create a new client and delete this one."</small></p>
                                    <FormError err=update_err/>
                                    <button type="submit" class="primary">"Save changes"</button>
                                </ActionForm>
                            </section>
                            <section class="card danger-zone" aria-labelledby="danger-title">
                                <h2 id="danger-title">"Disable or delete"</h2>
                                <ActionForm action=toggle>
                                    <input type="hidden" name="client_id" value=id2/>
                                    <input type="hidden" name="enabled" value=(!c.enabled).to_string()/>
                                    <button type="submit">{if c.enabled { "Disable client" } else { "Enable client" }}</button>
                                </ActionForm>
                                <details class="confirm">
                                    <summary>"Delete client…"</summary>
                                    <ActionForm action=delete>
                                        <input type="hidden" name="client_id" value=id3/>
                                        <label for="confirm-name">{format!("Type “{name}” to delete this client for good")}</label>
                                        <input id="confirm-name" name="confirm_name" autocomplete="off" required/>
                                        <button type="submit" class="danger">"Delete client"</button>
                                    </ActionForm>
                                    <FieldError err=delete_err field="confirm_name"/>
                                </details>
                            </section>
                        }
                    })}
                }.into_any()
            })}
        </Transition>
        <section aria-labelledby="trail-title">
            <h2 id="trail-title">"History"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    trail.await.ok().map(|p| view! {
                        <ul class="trail">
                            {p.entries.into_iter().map(|e| view! {
                                <li>{fmt_time(e.at)} " · " <code>{e.action}</code> " by " {e.actor}</li>
                            }).collect_view()}
                        </ul>
                    })
                })}
            </Transition>
        </section>
    }
}

/// Copies `text` with the Clipboard API and says so; without JavaScript it does nothing, and
/// the text next to it can be selected by hand.
#[component]
fn CopyButton(text: String, label: &'static str) -> impl IntoView {
    let done = RwSignal::new(None::<&'static str>);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let text = text.clone();
            leptos::task::spawn_local(async move {
                let clipboard = window().navigator().clipboard();
                let ok = wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&text))
                    .await
                    .is_ok();
                done.set(Some(if ok {
                    "Copied."
                } else {
                    "Copy failed: select the text and copy it by hand."
                }));
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    view! {
        <button type="button" aria-label=label on:click=copy>"Copy"</button>
        <span class="copied" role="status">{move || done.get()}</span>
    }
}

#[component]
pub fn NewClientPage() -> impl IntoView {
    let query = use_query_map();
    // Following a preset link changes only the query, so the choice must be reactive.
    let preset = move || query.read().get("preset").and_then(|k| presets::find(&k));
    view! {
        <Guarded admin=true>
            {move || match preset() {
                Some(preset) => view! { <PresetReview preset/> }.into_any(),
                None => view! { <NewClient/> }.into_any(),
            }}
        </Guarded>
    }
}

fn yes_no(v: Option<String>) -> Option<bool> {
    match v.as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    }
}

#[component]
fn NewClient() -> impl IntoView {
    let query = use_query_map();
    // The two questions: from the URL on the server (no JavaScript), live in the browser.
    let person = RwSignal::new(yes_no(query.read_untracked().get("person")));
    let secret = RwSignal::new(yes_no(query.read_untracked().get("secret")));
    let recommendation = move || match (person.get(), secret.get()) {
        (Some(p), Some(s)) => Some(kind::recommend(p, s)),
        _ => None,
    };
    let chosen = RwSignal::new(None::<ClientType>);
    let selected = move || chosen.get().or_else(|| recommendation().map(|(t, _)| t));

    let create = ServerAction::<CreateClient>::new();
    let err = Signal::derive(move || create.value().get().and_then(Result::err));
    let slot = expect_context::<OneTimeSlot>();
    Effect::new(move |_| {
        if let Some(Ok(done)) = create.value().get() {
            slot.show_then_go(done.one_time());
        }
    });

    let question =
        move |name: &'static str, legend: &'static str, signal: RwSignal<Option<bool>>| {
            view! {
                <fieldset class="question">
                    <legend>{legend}</legend>
                    <label>
                        <input type="radio" name=name value="yes"
                            checked=move || signal.get() == Some(true)
                            prop:checked=move || signal.get() == Some(true)
                            on:change=move |_| { signal.set(Some(true)); chosen.set(None); }/>
                        " Yes"
                    </label>
                    <label>
                        <input type="radio" name=name value="no"
                            checked=move || signal.get() == Some(false)
                            prop:checked=move || signal.get() == Some(false)
                            on:change=move |_| { signal.set(Some(false)); chosen.set(None); }/>
                        " No"
                    </label>
                </fieldset>
            }
        };

    view! {
        <h1>"New client"</h1>
        <section class="card" aria-labelledby="presets-title">
            <h2 id="presets-title">"Start from an architecture"</h2>
            <ul class="presets">
                {presets::all()
                    .into_iter()
                    .map(|p| view! {
                        <li><a href=format!("/clients/new?preset={}", p.key)>{p.title}</a> " — " {p.summary}</li>
                    })
                    .collect_view()}
            </ul>
        </section>
        <section class="card" aria-labelledby="guide-title">
            <h2 id="guide-title">"Which type fits?"</h2>
            <p class="lede">"Register each part of your software as its own client. Two questions decide its type."</p>
            <form method="GET" action="/clients/new" class="guide">
                {question("person", "Does a person sign in through this part of your software?", person)}
                {question("secret", "Can the machine that runs it keep a secret (a server you control, not a browser or a user's device)?", secret)}
                <noscript><button type="submit">"Recommend a type"</button></noscript>
            </form>
            <p class="recommendation" role="status">
                {move || recommendation().map(|(t, why)| view! { <strong>{format!("Recommended: {}. ", t.label())}</strong> {why} })}
            </p>
        </section>
        <ActionForm action=create attr:class="card client-form">
            <fieldset class="types">
                <legend>"Client type"</legend>
                {ClientType::ALL
                    .into_iter()
                    .map(|t| {
                        let id = format!("type-{}", t.as_str());
                        view! {
                            <div class="type-option">
                                <input type="radio" id=id.clone() name="input[client_type]" value=t.as_str()
                                    checked=move || selected() == Some(t)
                                    prop:checked=move || selected() == Some(t)
                                    on:change=move |_| chosen.set(Some(t))/>
                                <label for=id>{t.label()}</label>
                                <small>{t.implication()}</small>
                                {move || {
                                    let rec = recommendation().map(|(r, _)| r);
                                    (selected() == Some(t) && rec.is_some() && rec != Some(t)).then(|| view! {
                                        <small class="warning">"This is not the recommended type for your answers above."</small>
                                    })
                                }}
                            </div>
                        }
                    })
                    .collect_view()}
                <FieldError err=err field="client_type"/>
            </fieldset>
            <div class="field">
                <label for="c-name">"Name"</label>
                <input id="c-name" name="input[name]" required maxlength=NAME_MAX aria-describedby="name-error"/>
                <FieldError err=err field="name"/>
            </div>
            <div class="field">
                <label for="c-description">"Description"</label>
                <textarea id="c-description" name="input[description]" rows=2 aria-describedby="description-error"></textarea>
                <FieldError err=err field="description"/>
            </div>
            <div class="field" class:hidden=move || selected() == Some(ClientType::ClientCredentials)>
                <label for="c-redirects">"Redirect URIs"</label>
                <textarea id="c-redirects" name="input[redirect_uris]" rows=3
                    disabled=move || selected() == Some(ClientType::ClientCredentials)
                    placeholder="https://app.example.com/callback"
                    aria-describedby="redirect_uris-hint redirect_uris-error"></textarea>
                <small id="redirect_uris-hint">
                    "One per line, up to 20. For the two PKCE types. https, or http on 127.0.0.1, [::1] or localhost; native apps may use a scheme like com.example.app:/callback."
                </small>
                <FieldError err=err field="redirect_uris"/>
            </div>
            // A hidden field is also disabled, so that what it held is not sent for a type that
            // does not use it.
            <div class="field" class:hidden=move || matches!(selected(), Some(ClientType::ConfidentialPkce | ClientType::PublicPkce))>
                <label for="c-scopes">"Scopes"</label>
                <input id="c-scopes" name="input[scopes]" placeholder="orders:read orders:write"
                    disabled=move || matches!(selected(), Some(ClientType::ConfidentialPkce | ClientType::PublicPkce))
                    aria-describedby="scopes-hint scopes-error"/>
                <small id="scopes-hint">"For client credentials: the scopes it may request, separated by spaces."</small>
                <FieldError err=err field="scopes"/>
            </div>
            <div class="field" class:hidden=move || matches!(selected(), Some(ClientType::ConfidentialPkce | ClientType::PublicPkce))>
                <label for="c-audience">"Token audience"</label>
                <input id="c-audience" name="input[audience]" placeholder="https://api.example.com"
                    disabled=move || matches!(selected(), Some(ClientType::ConfidentialPkce | ClientType::PublicPkce))
                    aria-describedby="audience-hint audience-error"/>
                <small id="audience-hint">"Optional, for client credentials: the API its access tokens are for (the aud claim). Empty means the server's default."</small>
                <FieldError err=err field="audience"/>
            </div>
            <FormError err=err/>
            <button type="submit" class="primary" disabled=move || create.pending().get()>"Create client"</button>
        </ActionForm>
    }
}
