//! `/clients/{client_id}`: one client's facts, its secrets (`secrets::ui::panel`), editing,
//! disabling and deleting (administrators), and its history.

use leptos::prelude::*;

use super::status_label;
use crate::audit::api::client_audit;
use crate::audit::AuditPage;
use crate::clients::api::{
    get_client, list_applications, DeleteClient, SetClientEnabled, UpdateClient,
};
use crate::clients::kind::ClientType;
use crate::clients::ui::application::{ApplicationPicker, Applications};
use crate::clients::ui::lifetime::SecretLifetimeField;
use crate::clients::ui::sign_in::SignInFields;
use crate::clients::{ClientView, NAME_MAX};
use crate::error::AppError;
use crate::secrets::fmt_duration;
use crate::secrets::ui::expiry::CannotAuthenticate;
use crate::secrets::ui::panel::{SecretsPanel, SecretsState};
use crate::signin::ui::{AuthCtx, Guarded};
use crate::ui::clipboard::CopyButton;
use crate::ui::{fmt_time, set_page_status, Confirm, FieldError, FormError, LoadError};
use crate::usage::ui::UsageSection;
use crate::usage::UsageView;

/// The page's actions and reads, the secrets panel's included.
#[derive(Clone, Copy)]
struct ClientState {
    update: ServerAction<UpdateClient>,
    toggle: ServerAction<SetClientEnabled>,
    delete: ServerAction<DeleteClient>,
    client: Resource<Result<ClientView, AppError>>,
    trail: Resource<Result<AuditPage, AppError>>,
    apps: Applications,
    /// Bumped by the secrets panel after each change, so that the history refreshes.
    secret_changes: RwSignal<u32>,
    secrets: SecretsState,
    usage: Resource<Result<UsageView, AppError>>,
}

#[component]
pub fn ClientPage() -> impl IntoView {
    // Every resource and action is made here, before `Guarded`: see `list::ClientsPage`.
    let params = leptos_router::hooks::use_params_map();
    let client_id = Signal::derive(move || params.read().get("client_id").unwrap_or_default());
    let update = ServerAction::<UpdateClient>::new();
    let toggle = ServerAction::<SetClientEnabled>::new();
    let delete = ServerAction::<DeleteClient>::new();
    let client = Resource::new(
        move || {
            (
                client_id.get(),
                update.version().get(),
                toggle.version().get(),
            )
        },
        |(id, _, _)| get_client(id),
    );
    let secret_changes = RwSignal::new(0u32);
    let trail = Resource::new(
        move || {
            (
                client_id.get(),
                update.version().get(),
                toggle.version().get(),
                secret_changes.get(),
            )
        },
        |(id, ..)| client_audit(id),
    );
    // Made again after an edit, which may have made a new application.
    let apps: Applications = Resource::new(move || update.version().get(), |_| list_applications());
    let st = ClientState {
        apps,
        update,
        toggle,
        delete,
        client,
        trail,
        secret_changes,
        secrets: SecretsState::new(client_id),
        usage: Resource::new(
            move || (client_id.get(), secret_changes.get()),
            |(id, _)| crate::usage::api::client_usage(id),
        ),
    };
    view! {
        <Guarded>
            <ClientDetail st/>
        </Guarded>
    }
}

#[component]
fn ClientDetail(st: ClientState) -> impl IntoView {
    let auth = expect_context::<AuthCtx>();
    let ClientState {
        update,
        toggle,
        delete,
        client,
        trail,
        apps,
        secret_changes,
        secrets,
        usage,
    } = st;
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
                    Err(e) => return {
                        set_page_status(&e);
                        view! {
                        <h1>"Client"</h1>
                        <LoadError err=e/>
                        <p><a href="/clients">"Back to the client list"</a></p>
                    }.into_any()
                    },
                };
                let id = c.client_id.clone();
                let kind = c.client_type;
                // Awaited here, not in a Transition of its own inside this one (see
                // `attention::ui::OverviewLink`).
                let banner = secrets.overview.await.ok().map(|v| view! { <CannotAuthenticate v/> });
                view! {
                    <p><a href="/clients">"← All clients"</a></p>
                    <h1>{c.name.clone()}</h1>
                    {banner}
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
                            <dt>"Post-logout redirect URIs"</dt>
                            <dd>{if c.post_logout_redirect_uris.is_empty() {
                                view! { "—" }.into_any()
                            } else {
                                view! { <ul class="plain">{c.post_logout_redirect_uris.iter().map(|u| view! { <li><code>{u.clone()}</code></li> }).collect_view()}</ul> }.into_any()
                            }}</dd>
                            <dt>"Consent"</dt>
                            <dd>{if c.first_party { "First-party: people are not asked for consent" } else { "People are asked for consent" }}</dd>
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
                        {kind.has_secret().then(|| view! {
                            <dt>"Secret lifetime"</dt>
                            <dd>{match c.secret_lifetime {
                                Some(secs) => fmt_duration(secs),
                                None => "The server's policy".to_string(),
                            }}</dd>
                        })}
                        <dt>"Last used"</dt>
                        <dd>{c.last_used_at.map(fmt_time).unwrap_or_else(|| "never".into())}</dd>
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
        <SecretsPanel st=secrets admin=Signal::derive(is_admin) changes=secret_changes/>
        <UsageSection usage/>
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
                        let disable_name = c.name.clone();
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
                                        <textarea id="e-description" name="input[description]" rows=2>{c.description.clone()}</textarea>
                                        <FieldError err=update_err field="description"/>
                                    </div>
                                    {kind.uses_redirect_uris().then(|| view! {
                                        <div class="field">
                                            <label for="e-redirects">"Redirect URIs"</label>
                                            <textarea id="e-redirects" name="input[redirect_uris]" rows=3>{c.redirect_uris.join("\n")}</textarea>
                                            <FieldError err=update_err field="redirect_uris"/>
                                        </div>
                                        <SignInFields prefix="e" post_logout=c.post_logout_redirect_uris.clone() first_party=c.first_party err=update_err/>
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
                                    {kind.has_secret().then(|| view! {
                                        <SecretLifetimeField prefix="e" value=c.secret_lifetime err=update_err/>
                                    })}
                                    <ApplicationPicker apps current=c.application.clone() err=update_err prefix="e"/>
                                    <p><small>"The type cannot change. To use another type, create a new client and delete this one."</small></p>
                                    <FormError err=update_err/>
                                    <button type="submit" class="primary" disabled=move || update.pending().get()>"Save changes"</button>
                                </ActionForm>
                            </section>
                            <section class="card danger-zone" aria-labelledby="danger-title">
                                <h2 id="danger-title">"Disable or delete"</h2>
                                {if c.enabled {
                                    let name = disable_name;
                                    view! {
                                        <Confirm summary="Disable client…" label=format!("Disable client: {name}")
                                            text=format!("Disable {name}? From its next request it gets no tokens, with any secret, until an administrator enables it again. Tokens it already has stay valid until they expire.")>
                                            <ActionForm action=toggle>
                                                <input type="hidden" name="client_id" value=id2/>
                                                <input type="hidden" name="enabled" value="false"/>
                                                <button type="submit" class="danger">"Disable client"</button>
                                            </ActionForm>
                                        </Confirm>
                                    }.into_any()
                                } else {
                                    view! {
                                        <ActionForm action=toggle>
                                            <input type="hidden" name="client_id" value=id2/>
                                            <input type="hidden" name="enabled" value="true"/>
                                            <button type="submit">"Enable client"</button>
                                        </ActionForm>
                                    }.into_any()
                                }}
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
