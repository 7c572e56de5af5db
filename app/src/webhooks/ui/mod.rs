//! `/webhooks`: the endpoints, and the form that registers one (administrators); the new
//! endpoint's signing secret is shown once, in place. `detail`: `/webhooks/{id}`, one endpoint
//! with its actions; `deliveries`: its deliveries table.
//!
//! Shared here: the endpoint's form fields (`EndpointFields`) and the one-time signing secret
//! (`SigningSecretBlock`), which the no-JavaScript answer page (`secrets::one_time_page`) uses
//! too.

pub mod deliveries;
pub mod detail;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::{list_webhooks, CreateWebhook};
use super::{Endpoint, EventType, SigningSecretOnce};
use crate::error::AppError;
use crate::secrets::ui::one_time::take_ok;
use crate::signin::ui::{AuthCtx, Guarded};
use crate::ui::clipboard::CopyButton;
use crate::ui::form_token::FormToken;
use crate::ui::{fmt_time, FieldError, FormError, LoadError};

/// What the one-time block says above the secret.
pub const SIGNING_NOT_SHOWN_AGAIN: &str =
    "Copy it now: this signing secret will not be shown again. \
     Your receiver checks the webhook-signature header of each delivery with it.";

#[component]
pub fn WebhooksPage() -> impl IntoView {
    // Made here, before `Guarded`: see `clients::ui::list::ClientsPage`.
    let create = ServerAction::<CreateWebhook>::new();
    let list = Resource::new(move || create.version().get(), |_| list_webhooks());
    view! {
        <Guarded>
            <Webhooks create list/>
        </Guarded>
    }
}

#[component]
fn Webhooks(
    create: ServerAction<CreateWebhook>,
    list: Resource<Result<Vec<Endpoint>, AppError>>,
) -> impl IntoView {
    let auth = expect_context::<AuthCtx>();
    // The new secret, moved out of the action: this signal holds the only copy, and leaving
    // the page drops it.
    let fresh = RwSignal::new(None::<SigningSecretOnce>);
    Effect::new(move |_| {
        if let Some(s) = take_ok(create.value()) {
            fresh.set(Some(s));
        }
    });
    let err = Signal::derive(move || create.value().get().and_then(Result::err));
    let query = use_query_map();
    let deleted = move || {
        (query.read().get("done").as_deref() == Some("deleted"))
            .then_some("The webhook endpoint and its deliveries were deleted.")
    };
    view! {
        <h1>"Webhooks"</h1>
        <p class="lead">"Clavis sends a signed event to each endpoint when a secret is made, rotated, revoked or about to expire, and when a client or an authorizer changes."</p>
        <p class="status" role="status">{deleted}</p>
        {move || fresh.get().map(|s| {
            let done = s.done_href.clone();
            view! {
                <SigningSecretBlock s>
                    <p class="actions"><a href=done class="button-link primary">"Done"</a></p>
                </SigningSecretBlock>
            }
        })}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading webhook endpoints…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <LoadError err=e/> }.into_any(),
                    Ok(all) if all.is_empty() => view! {
                        <p class="empty">"No webhook endpoints yet."</p>
                    }.into_any(),
                    Ok(all) => view! { <EndpointTable all/> }.into_any(),
                }
            })}
        </Transition>
        {move || (auth.is_admin() && fresh.with(Option::is_none)).then(|| view! {
            <section class="card" aria-labelledby="new-webhook-title">
                <h2 id="new-webhook-title">"New endpoint"</h2>
                <ActionForm action=create>
                    <FormToken/>
                    <EndpointFields prefix="n" current=None err/>
                    <button type="submit" class="primary" disabled=move || create.pending().get()>"Create endpoint"</button>
                </ActionForm>
                <FormError err/>
            </section>
        })}
    }
}

#[component]
fn EndpointTable(all: Vec<Endpoint>) -> impl IntoView {
    view! {
        <table class="data">
            <caption class="visually-hidden">"Webhook endpoints"</caption>
            <thead><tr>
                <th scope="col">"URL"</th>
                <th scope="col">"Events"</th>
                <th scope="col">"State"</th>
                <th scope="col">"Waiting"</th>
                <th scope="col">"Failed"</th>
            </tr></thead>
            <tbody>
                {all.into_iter().map(|e| view! {
                    <tr>
                        <th scope="row">
                            <a href=format!("/webhooks/{}", e.id)>{e.url.clone()}</a>
                            {(!e.description.is_empty()).then(|| view! { <br/><small>{e.description.clone()}</small> })}
                        </th>
                        <td>{events_text(&e.events)}</td>
                        <td>{if e.enabled { "Enabled" } else { "Disabled" }}</td>
                        <td>{e.pending}</td>
                        <td>{e.failed}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// "All events", or the list of types.
pub fn events_text(events: &[String]) -> String {
    if events.is_empty() {
        "All events".into()
    } else {
        events.join(", ")
    }
}

/// The fields of an endpoint, empty or filled with `current`. `prefix` keeps the ids unique.
#[component]
pub fn EndpointFields(
    prefix: &'static str,
    current: Option<Endpoint>,
    err: Signal<Option<AppError>>,
) -> impl IntoView {
    let (url, description, events, enabled) = match &current {
        Some(e) => (
            e.url.clone(),
            e.description.clone(),
            e.events.clone(),
            e.enabled,
        ),
        None => (String::new(), String::new(), Vec::new(), true),
    };
    let id = move |f: &str| format!("{prefix}-{f}");
    view! {
        <div class="field">
            <label for=id("url")>"URL"</label>
            <input id=id("url") name="input[url]" type="url" required value=url
                aria-describedby=format!("{} {}", id("url-hint"), id("url-error"))/>
            <p id=id("url-hint") class="hint">"https://…, or http:// to a loopback address. Link-local and cloud metadata addresses are always refused; private ones only when the server allows them."</p>
            <FieldError err field="url" id=id("url-error")/>
        </div>
        <div class="field">
            <label for=id("description")>"Description"</label>
            <input id=id("description") name="input[description]" maxlength="500" value=description/>
            <FieldError err field="description" id=id("description-error")/>
        </div>
        <fieldset>
            <legend>"Events"</legend>
            <p class="hint">"Leave every box empty to receive every event, including the ones added later."</p>
            {EventType::ALL.into_iter().map(|t| {
                let box_id = format!("{prefix}-event-{}", t.as_str().replace('.', "-"));
                let checked = events.iter().any(|e| e == t.as_str());
                view! {
                    <div class="field checkbox">
                        <input type="checkbox" id=box_id.clone() name="input[events][]" value=t.as_str() checked=checked/>
                        <label for=box_id><code>{t.as_str()}</code>" — "{t.description()}</label>
                    </div>
                }
            }).collect_view()}
            <FieldError err field="events" id=id("events-error")/>
        </fieldset>
        <div class="field checkbox">
            <input type="checkbox" id=id("enabled") name="input[enabled]" value="true" checked=enabled/>
            <label for=id("enabled")>"Enabled"</label>
            <small>"A disabled endpoint gets no new events; deliveries already waiting go out once it is enabled again."</small>
        </div>
    }
}

/// A new signing secret, once: a read-only field labelled "Signing secret" and, in the hydrated
/// app, "Copy" (without JavaScript the text is selected by hand). `children`: the way out.
#[component]
pub fn SigningSecretBlock(
    s: SigningSecretOnce,
    /// On its own page (no JavaScript): the heading is the page's `h1`, and there is no Copy.
    #[prop(optional)]
    page: bool,
    children: Children,
) -> impl IntoView {
    let title = "Signing secret";
    let heading = if page {
        view! { <h1 id="signing-secret-title">{title}</h1> }.into_any()
    } else {
        view! { <h2 id="signing-secret-title">{title}</h2> }.into_any()
    };
    let copy = (!page).then(|| {
        view! { <CopyButton text=s.signing_secret.clone() label="Copy the signing secret"/> }
    });
    view! {
        <section class="card one-time" aria-labelledby="signing-secret-title">
            {heading}
            <p class="warning-text">{SIGNING_NOT_SHOWN_AGAIN}</p>
            <p>"Endpoint " <code>{s.url.clone()}</code></p>
            <label for="signing-secret">{title}</label>
            <div class="secret-row">
                <input id="signing-secret" class="secret-field" type="text" readonly
                    spellcheck="false" autocomplete="off" value=s.signing_secret.clone()/>
                {copy}
            </div>
            {s.previous_secret_until.map(|at| view! {
                <p>"Until " <strong>{fmt_time(at)}</strong>
                    " each delivery is signed with the previous secret too, so receivers can switch without losing one."</p>
            })}
            {children()}
        </section>
    }
}
