//! `/authorizers`: the list, and the form that creates one (administrators); and
//! `/authorizers/{client_id}`: one authorizer (addressed by its system client), with its
//! client, its secret panel, "last active", and its generated configuration.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api::{
    get_authorizer, list_authorizers, CreateAuthorizer, DeleteAuthorizer, UpdateAuthorizer,
};
use super::{config_files, AuthorizerView, DEFAULT_NAMESPACE, FILES_WITH_SECRET};
use crate::error::AppError;
use crate::secrets::api::RotateSecret;
use crate::secrets::files::ConfigFile;
use crate::secrets::ui::one_time::{ConfigFileLinks, OneTimeSlot};
use crate::secrets::ui::panel::{SecretsPanel, SecretsState};
use crate::secrets::SecretMeta;
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
                    <div class="field">
                        <label for="a-name">"Name"</label>
                        <input id="a-name" name="input[name]" required maxlength="100"/>
                        <FieldError err field="name"/>
                    </div>
                    <div class="field">
                        <label for="a-description">"Description"</label>
                        <input id="a-description" name="input[description]" maxlength="500"/>
                        <FieldError err field="description"/>
                    </div>
                    <div class="field">
                        <label for="a-audience">"Audience"</label>
                        <input id="a-audience" name="input[audience]" required aria-describedby="a-audience-hint"/>
                        <p id="a-audience-hint" class="hint">"The aud of the tokens the API accepts, such as orders-api."</p>
                        <FieldError err field="audience"/>
                    </div>
                    <div class="field">
                        <label for="a-namespace">"Namespace"</label>
                        <input id="a-namespace" name="input[namespace]" placeholder=DEFAULT_NAMESPACE aria-describedby="a-namespace-hint"/>
                        <p id="a-namespace-hint" class="hint">{format!("The Kubernetes namespace of the generated configuration; {DEFAULT_NAMESPACE} if empty.")}</p>
                        <FieldError err field="namespace"/>
                    </div>
                    <div class="field">
                        <label for="a-image">"Image"</label>
                        <input id="a-image" name="input[image]" required aria-describedby="a-image-hint"/>
                        <p id="a-image-hint" class="hint">"The container image of the authorizer's Deployment."</p>
                        <FieldError err field="image"/>
                    </div>
                    <button type="submit" class="primary" disabled=move || create.pending().get()>"Create authorizer"</button>
                </ActionForm>
                <FormError err/>
            </section>
        })}
    }
}

/// The administrator's form that changes an authorizer, filled with what it has now.
#[component]
fn EditAuthorizer(a: AuthorizerView, update: ServerAction<UpdateAuthorizer>) -> impl IntoView {
    let err = Signal::derive(move || update.value().get().and_then(Result::err));
    view! {
        <section class="card" aria-labelledby="edit-authorizer-title">
            <h2 id="edit-authorizer-title">"Settings"</h2>
            <ActionForm action=update>
                <input type="hidden" name="client_id" value=a.client_id.clone()/>
                <div class="field">
                    <label for="e-name">"Name"</label>
                    <input id="e-name" name="input[name]" required maxlength="100" value=a.name.clone()/>
                    <FieldError err field="name"/>
                </div>
                <div class="field">
                    <label for="e-description">"Description"</label>
                    <input id="e-description" name="input[description]" maxlength="500" value=a.description.clone()/>
                    <FieldError err field="description"/>
                </div>
                <div class="field">
                    <label for="e-audience">"Audience"</label>
                    <input id="e-audience" name="input[audience]" required value=a.audience.clone() aria-describedby="e-audience-hint"/>
                    <p id="e-audience-hint" class="hint">"Tokens for the old audience are no longer this authorizer's to check once it is changed."</p>
                    <FieldError err field="audience"/>
                </div>
                <div class="field">
                    <label for="e-namespace">"Namespace"</label>
                    <input id="e-namespace" name="input[namespace]" value=a.namespace.clone()/>
                    <FieldError err field="namespace"/>
                </div>
                <div class="field">
                    <label for="e-image">"Image"</label>
                    <input id="e-image" name="input[image]" required value=a.image.clone()/>
                    <FieldError err field="image"/>
                </div>
                <button type="submit" class="primary" disabled=move || update.pending().get()>"Save changes"</button>
            </ActionForm>
            <FormError err/>
        </section>
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
    let update = ServerAction::<UpdateAuthorizer>::new();
    // Read again after each save that worked only: a refused one keeps what was typed.
    let saves = Memo::new(move |n: Option<&u32>| {
        let n = n.copied().unwrap_or(0);
        n + u32::from(matches!(update.value().get(), Some(Ok(_))))
    });
    let authorizer = Resource::new(
        move || (client_id.get(), saves.get()),
        |(id, _)| get_authorizer(id),
    );
    let secrets = SecretsState::new(client_id);
    let delete = ServerAction::<DeleteAuthorizer>::new();
    view! {
        <Guarded>
            <AuthorizerDetail authorizer secrets update delete/>
        </Guarded>
    }
}

#[component]
fn AuthorizerDetail(
    authorizer: Resource<Result<(AuthorizerView, String), AppError>>,
    secrets: SecretsState,
    update: ServerAction<UpdateAuthorizer>,
    delete: ServerAction<DeleteAuthorizer>,
) -> impl IntoView {
    let auth = expect_context::<AuthCtx>();
    let query = use_query_map();
    let saved = move || {
        let done = matches!(update.value().get(), Some(Ok(_)))
            || query.read().get("done").as_deref() == Some("saved");
        done.then_some("Saved. The generated configuration below uses the new settings.")
    };
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
                let current = overview.await.ok().and_then(|v| v.current);
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
                    <p class="status" role="status">{saved}</p>
                    <Configuration a=a.clone() issuer current admin=is_admin() rotate/>
                    {is_admin().then(|| view! { <EditAuthorizer a=a.clone() update/> })}
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

/// The generated files. `CLIENT_SECRET` is empty in the files offered here: a secret is filled
/// in only in the one answer that makes or reveals it. When the current secret is readable, an
/// administrator downloads each file that holds it through its own audited reveal (the
/// password step of the secret panel, for that file); when it is a hash only, "Rotate secret
/// and download configuration" makes a new one.
#[component]
fn Configuration(
    a: AuthorizerView,
    issuer: String,
    current: Option<SecretMeta>,
    admin: bool,
    rotate: ServerAction<RotateSecret>,
) -> impl IntoView {
    let files = config_files(&a, None, &issuer);
    let id = a.client_id.clone();
    let rotate_form = admin.then(|| {
        let id = id.clone();
        view! {
            <ActionForm action=rotate>
                <FormToken/>
                <input type="hidden" name="client_id" value=id/>
                <input type="hidden" name="grace" value=""/>
                <button type="submit" class="primary" disabled=move || rotate.pending().get()>"Rotate secret and download configuration"</button>
            </ActionForm>
        }
    });
    let hashed = if current.is_some() {
        "CLIENT_SECRET is empty in these files: the secret is stored as a hash, so nobody can read it again. Rotate it to get the files with the new secret filled in, once."
    } else {
        "CLIENT_SECRET is empty in these files: the client has no current secret. Create one to get the files with it filled in, once."
    };
    let body = match current.filter(|c| c.readable) {
        Some(c) if admin => {
            let (plain, secret): (Vec<ConfigFile>, Vec<ConfigFile>) = files
                .into_iter()
                .partition(|f| !FILES_WITH_SECRET.contains(&f.label.as_str()));
            view! {
                <p>"The secret is readable, so each file that holds it is downloaded with it filled in, after your password: every download is a reveal, in the audit log."</p>
                <p class="downloads">
                    {secret.into_iter().map(|f| view! {
                        <Form method="GET" action=format!("/authorizers/{id}") attr:class="inline">
                            <input type="hidden" name="confirm" value="reveal"/>
                            <input type="hidden" name="secret" value=c.id.to_string()/>
                            <input type="hidden" name="file" value=f.label.clone()/>
                            <button type="submit">{format!("Download {}…", f.label)}</button>
                        </Form>
                        " "
                    }).collect_view()}
                </p>
                <ConfigFileLinks files=plain title="Files without the secret"/>
            }
            .into_any()
        }
        Some(_) => view! {
            <p>"CLIENT_SECRET is empty in these files: only an administrator can reveal the secret."</p>
            <ConfigFileLinks files title="Generated configuration"/>
        }
        .into_any(),
        None => view! {
            <p>{hashed}</p>
            <ConfigFileLinks files title="Generated configuration"/>
            {rotate_form}
        }
        .into_any(),
    };
    view! {
        <section class="card" aria-labelledby="config-title">
            <h2 id="config-title">"Configuration"</h2>
            {body}
        </section>
    }
}
