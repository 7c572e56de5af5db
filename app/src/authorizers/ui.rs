//! `/authorizers`: the list, and the form that creates one (administrators); and
//! `/authorizers/{client_id}`: one authorizer (addressed by its system client), with its
//! client, its secret panel, "last active", and its generated configuration.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api::{get_authorizer, list_authorizers, CreateAuthorizer, DeleteAuthorizer};
use super::{config_files, AuthorizerView, DEFAULT_NAMESPACE};
use crate::error::AppError;
use crate::secrets::api::RotateSecret;
use crate::secrets::ui::one_time::{ConfigFileLinks, OneTimeSlot};
use crate::secrets::ui::panel::{SecretsPanel, SecretsState};
use crate::secrets::SecretsView;
use crate::signin::ui::{AuthCtx, Guarded};
use crate::ui::form_token::FormToken;
use crate::ui::{fmt_time, Confirm, FieldError, FormError, LoadError};

#[component]
pub fn AuthorizersPage() -> impl IntoView {
    // Made here, before `Guarded`: see `clients::ui::list::ClientsPage`.
    let create = ServerAction::<CreateAuthorizer>::new();
    let list = Resource::new(move || create.version().get(), |_| list_authorizers());
    view! {
        <Guarded>
            <Authorizers create list/>
        </Guarded>
    }
}

#[component]
fn Authorizers(
    create: ServerAction<CreateAuthorizer>,
    list: Resource<Result<Vec<AuthorizerView>, AppError>>,
) -> impl IntoView {
    let auth = expect_context::<AuthCtx>();
    let slot = expect_context::<OneTimeSlot>();
    Effect::new(move |_| slot.take_then_go(create.value(), |out| out));
    let err = Signal::derive(move || create.value().get().and_then(Result::err));
    let query = use_query_map();
    let deleted = move || {
        (query.read().get("done").as_deref() == Some("deleted"))
            .then_some("The authorizer and its client were deleted.")
    };
    view! {
        <h1>"Authorizers"</h1>
        <p class="lead">"An authorizer is a gateway in front of one API. It checks Clavis's tokens for that API with a client of its own, made with it in the System application."</p>
        <p class="status" role="status">{deleted}</p>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading authorizers…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <LoadError err=e/> }.into_any(),
                    Ok(all) if all.is_empty() => view! {
                        <p class="empty">"No authorizers yet."</p>
                    }.into_any(),
                    Ok(all) => view! {
                        <table class="data">
                            <thead><tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Audience"</th>
                                <th scope="col">"Client ID"</th>
                                <th scope="col">"Last active"</th>
                            </tr></thead>
                            <tbody>
                                {all.into_iter().map(|a| view! {
                                    <tr>
                                        <th scope="row"><a href=format!("/authorizers/{}", a.client_id)>{a.name.clone()}</a></th>
                                        <td><code>{a.audience.clone()}</code></td>
                                        <td><code>{a.client_id.clone()}</code></td>
                                        <td>{last_active(a.last_active_at)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
        {move || auth.is_admin().then(|| view! {
            <section class="card" aria-labelledby="new-authorizer-title">
                <h2 id="new-authorizer-title">"New authorizer"</h2>
                <ActionForm action=create>
                    <FormToken/>
                    <label for="a-name">"Name"</label>
                    <input id="a-name" name="input[name]" required maxlength="100"/>
                    <FieldError err field="name"/>
                    <label for="a-description">"Description"</label>
                    <input id="a-description" name="input[description]" maxlength="500"/>
                    <FieldError err field="description"/>
                    <label for="a-audience">"Audience"</label>
                    <input id="a-audience" name="input[audience]" required aria-describedby="a-audience-hint"/>
                    <p id="a-audience-hint" class="hint">"The aud of the tokens the API accepts, such as orders-api."</p>
                    <FieldError err field="audience"/>
                    <label for="a-namespace">"Namespace"</label>
                    <input id="a-namespace" name="input[namespace]" placeholder=DEFAULT_NAMESPACE aria-describedby="a-namespace-hint"/>
                    <p id="a-namespace-hint" class="hint">{format!("The Kubernetes namespace of the generated configuration; {DEFAULT_NAMESPACE} if empty.")}</p>
                    <FieldError err field="namespace"/>
                    <label for="a-image">"Image"</label>
                    <input id="a-image" name="input[image]" required aria-describedby="a-image-hint"/>
                    <p id="a-image-hint" class="hint">"The container image of the authorizer's Deployment."</p>
                    <FieldError err field="image"/>
                    <button type="submit" class="primary" disabled=move || create.pending().get()>"Create authorizer"</button>
                </ActionForm>
                <FormError err/>
            </section>
        })}
    }
}

fn last_active(at: Option<i64>) -> String {
    at.map(fmt_time).unwrap_or_else(|| "never".into())
}

#[component]
pub fn AuthorizerPage() -> impl IntoView {
    // Every resource and action is made here, before `Guarded`: see `clients::ui::list`.
    let params = use_params_map();
    let client_id = Signal::derive(move || params.read().get("client_id").unwrap_or_default());
    let authorizer = Resource::new(move || client_id.get(), get_authorizer);
    let secrets = SecretsState::new(client_id);
    let delete = ServerAction::<DeleteAuthorizer>::new();
    view! {
        <Guarded>
            <AuthorizerDetail authorizer secrets delete/>
        </Guarded>
    }
}

#[component]
fn AuthorizerDetail(
    authorizer: Resource<Result<(AuthorizerView, String), AppError>>,
    secrets: SecretsState,
    delete: ServerAction<DeleteAuthorizer>,
) -> impl IntoView {
    let auth = expect_context::<AuthCtx>();
    let is_admin = move || auth.is_admin();
    let changes = RwSignal::new(0u32);
    Effect::new(move |_| {
        if matches!(delete.value().get(), Some(Ok(()))) {
            leptos_router::hooks::use_navigate()("/authorizers?done=deleted", Default::default());
        }
    });
    let delete_err = Signal::derive(move || delete.value().get().and_then(Result::err));
    let overview = secrets.overview;
    let rotate = secrets.rotate;
    view! {
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading authorizer…"</p> }>
            {move || Suspend::new(async move {
                let (a, issuer) = match authorizer.await {
                    Ok(v) => v,
                    Err(e) => return view! { <LoadError err=e/> }.into_any(),
                };
                let readable = overview.await.ok().as_ref().and_then(current_readable);
                view! {
                    <h1>{a.name.clone()}</h1>
                    <p class="lead">{a.description.clone()}</p>
                    <dl class="facts">
                        <dt>"Client ID"</dt>
                        <dd><code class="client-id">{a.client_id.clone()}</code></dd>
                        <dt>"Audience"</dt>
                        <dd><code>{a.audience.clone()}</code></dd>
                        <dt>"Namespace"</dt>
                        <dd><code>{a.namespace.clone()}</code></dd>
                        <dt>"Image"</dt>
                        <dd><code>{a.image.clone()}</code></dd>
                        <dt>"Last active"</dt>
                        <dd>{last_active(a.last_active_at)}</dd>
                    </dl>
                    <Configuration a=a.clone() issuer readable admin=is_admin() rotate/>
                    {is_admin().then(|| {
                        let (name, id) = (a.name.clone(), a.client_id.clone());
                        view! {
                            <section class="card danger-zone" aria-labelledby="delete-title">
                                <h2 id="delete-title">"Delete"</h2>
                                <Confirm summary="Delete authorizer…" label=format!("Delete authorizer {name}…")
                                    text=format!("Delete {name} and its client? The authorizer can then no longer check tokens. Type its name to confirm.")>
                                    <ActionForm action=delete>
                                        <input type="hidden" name="client_id" value=id/>
                                        <label for="confirm-name">"Name"</label>
                                        <input id="confirm-name" name="confirm_name" required autocomplete="off"/>
                                        <FieldError err=delete_err field="confirm_name"/>
                                        <button type="submit" class="danger">{format!("Delete {name}")}</button>
                                    </ActionForm>
                                </Confirm>
                                <FormError err=delete_err/>
                            </section>
                        }
                    })}
                }.into_any()
            })}
        </Transition>
        <SecretsPanel st=secrets admin=Signal::derive(is_admin) changes/>
    }
}

/// Whether the current secret is readable (the storage flag false): the page then points to
/// "Reveal…" in the secret panel, which is audited, rather than filling the files here.
fn current_readable(v: &SecretsView) -> Option<bool> {
    v.current.as_ref().map(|c| c.readable)
}

/// The generated files. `CLIENT_SECRET` is empty here: a secret is filled in only in the
/// one answer that makes (or reveals) it. "Rotate secret and download configuration" makes one.
#[component]
fn Configuration(
    a: AuthorizerView,
    issuer: String,
    readable: Option<bool>,
    admin: bool,
    rotate: ServerAction<RotateSecret>,
) -> impl IntoView {
    let files = config_files(&a, None, &issuer);
    let why = if readable == Some(true) {
        "CLIENT_SECRET is empty in these files: reveal the secret below to read it, or rotate to get the files with a new one filled in."
    } else {
        "CLIENT_SECRET is empty in these files: the secret is stored as a hash, so nobody can read it again. Rotate it to get the files with the new secret filled in, once."
    };
    let id = a.client_id.clone();
    view! {
        <section class="card" aria-labelledby="config-title">
            <h2 id="config-title">"Configuration"</h2>
            <p>{why}</p>
            <ConfigFileLinks files title="Generated configuration"/>
            {admin.then(|| view! {
                <ActionForm action=rotate>
                    <FormToken/>
                    <input type="hidden" name="client_id" value=id/>
                    <input type="hidden" name="grace" value=""/>
                    <button type="submit" class="primary" disabled=move || rotate.pending().get()>"Rotate secret and download configuration"</button>
                </ActionForm>
            })}
        </section>
    }
}
