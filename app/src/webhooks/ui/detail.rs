//! `/webhooks/{id}`: one endpoint, what it gets and how its secret stands; for administrators
//! "Send test event", "Rotate signing secret", "End previous secret", its settings and
//! "Delete"; and its deliveries.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::deliveries::{Deliveries, DeliveriesState};
use super::{events_text, EndpointFields, SigningSecretBlock};
use crate::error::AppError;
use crate::secrets::ui::one_time::take_ok;
use crate::signin::ui::{AuthCtx, Guarded};
use crate::ui::form_token::FormToken;
use crate::ui::{fmt_time, Confirm, FormError, LoadError};
use crate::webhooks::api::{
    get_webhook, DeleteWebhook, EndPreviousSecret, RotateWebhookSecret, SendTest, UpdateWebhook,
};
use crate::webhooks::{Endpoint, SigningSecretOnce};

/// The page's actions, made before `Guarded` (see `clients::ui::list::ClientsPage`).
#[derive(Clone, Copy)]
struct Actions {
    update: ServerAction<UpdateWebhook>,
    rotate: ServerAction<RotateWebhookSecret>,
    end_previous: ServerAction<EndPreviousSecret>,
    test: ServerAction<SendTest>,
    delete: ServerAction<DeleteWebhook>,
}

/// Counts the answers of `action` that worked: a refused one changes nothing to read again
/// (and reading again would drop what was typed).
fn successes<S, T, E>(value: S) -> Memo<usize>
where
    S: With<Value = Option<Result<T, E>>> + Copy + Send + Sync + 'static,
{
    Memo::new(move |n: Option<&usize>| {
        n.copied().unwrap_or(0) + usize::from(value.with(|v| matches!(v, Some(Ok(_)))))
    })
}

const SAVED: &str = "Saved.";
const TEST_SENT: &str = "A test event is on its way; it appears in the deliveries below.";
const PREVIOUS_ENDED: &str = "Only the current signing secret signs from now on.";
const REDELIVERED: &str = "The delivery is queued again, from the start of the retry schedule.";

/// Whether the last answer of an action worked.
fn ok<T, E>(value: impl With<Value = Option<Result<T, E>>>) -> bool {
    value.with(|v| matches!(v, Some(Ok(_))))
}

#[component]
pub fn WebhookPage() -> impl IntoView {
    let params = use_params_map();
    let id = Signal::derive(move || params.read().get("id").unwrap_or_default());
    let a = Actions {
        update: ServerAction::new(),
        rotate: ServerAction::new(),
        end_previous: ServerAction::new(),
        test: ServerAction::new(),
        delete: ServerAction::new(),
    };
    let (saves, ends) = (
        successes(a.update.value()),
        successes(a.end_previous.value()),
    );
    // A rotation's answer is moved out of the action at once; its version counts it.
    let rotations = a.rotate.version();
    let endpoint = Resource::new(
        move || (id.get(), saves.get(), ends.get(), rotations.get()),
        |(id, ..)| get_webhook(id),
    );
    let sent = successes(a.test.value());
    let deliveries = DeliveriesState::new(id, Signal::derive(move || sent.get()));
    view! {
        <Guarded>
            <WebhookDetail endpoint deliveries a/>
        </Guarded>
    }
}

#[component]
fn WebhookDetail(
    endpoint: Resource<Result<Endpoint, AppError>>,
    deliveries: DeliveriesState,
    a: Actions,
) -> impl IntoView {
    let auth = expect_context::<AuthCtx>();
    let query = use_query_map();
    // The rotated secret, moved out of the action: this signal holds the only copy.
    let fresh = RwSignal::new(None::<SigningSecretOnce>);
    Effect::new(move |_| {
        if let Some(s) = take_ok(a.rotate.value()) {
            fresh.set(Some(s));
        }
    });
    Effect::new(move |_| {
        if matches!(a.delete.value().get(), Some(Ok(()))) {
            leptos_router::hooks::use_navigate()("/webhooks?done=deleted", Default::default());
        }
    });
    // What the last action that worked did (with JavaScript): each answer replaces the line,
    // so an earlier action's message never stays over a later one's.
    let said = RwSignal::new(None::<&'static str>);
    Effect::new(move |_| ok(a.update.value()).then(|| said.set(Some(SAVED))));
    Effect::new(move |_| ok(a.test.value()).then(|| said.set(Some(TEST_SENT))));
    Effect::new(move |_| ok(a.end_previous.value()).then(|| said.set(Some(PREVIOUS_ENDED))));
    Effect::new(move |_| ok(deliveries.redeliver.value()).then(|| said.set(Some(REDELIVERED))));
    // Without JavaScript the redirect after the form says it.
    let status = move || {
        said.get()
            .or_else(|| match query.read().get("done").as_deref() {
                Some("saved") => Some(SAVED),
                Some("test") => Some(TEST_SENT),
                Some("previous-ended") => Some(PREVIOUS_ENDED),
                Some("redelivered") => Some(REDELIVERED),
                _ => None,
            })
    };
    let is_admin = move || auth.is_admin();
    view! {
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading webhook endpoint…"</p> }>
            {move || Suspend::new(async move {
                let e = match endpoint.await {
                    Ok(e) => e,
                    Err(err) => return view! { <LoadError err/> }.into_any(),
                };
                let admin = is_admin();
                view! {
                    <h1>"Webhook endpoint"</h1>
                    <p class="lead"><code>{e.url.clone()}</code></p>
                    <Facts e=e.clone()/>
                    <p class="status" role="status">{status}</p>
                    {move || fresh.get().map(|s| view! {
                        <SigningSecretBlock s>
                            <p class="actions">
                                <button type="button" class="primary" on:click=move |_| fresh.set(None)>"Done"</button>
                            </p>
                        </SigningSecretBlock>
                    })}
                    {admin.then(|| view! { <AdminActions e=e.clone() a/> })}
                    <Deliveries st=deliveries id=e.id.clone() admin/>
                    {admin.then(|| view! { <Settings e=e.clone() a/> })}
                }.into_any()
            })}
        </Transition>
    }
}

#[component]
fn Facts(e: Endpoint) -> impl IntoView {
    let signing = match e.previous_secret_until {
        Some(at) => format!(
            "Rotated: the previous secret signs too until {}",
            fmt_time(at)
        ),
        None => "One secret signs each delivery".to_string(),
    };
    view! {
        <dl class="facts">
            <dt>"ID"</dt>
            <dd><code>{e.id.clone()}</code></dd>
            <dt>"Description"</dt>
            <dd>{if e.description.is_empty() { "—".to_string() } else { e.description.clone() }}</dd>
            <dt>"Events"</dt>
            <dd>{events_text(&e.events)}</dd>
            <dt>"State"</dt>
            <dd>{if e.enabled { "Enabled" } else { "Disabled: it gets no new events" }}</dd>
            <dt>"Signing secret"</dt>
            <dd>{signing}</dd>
            <dt>"Created"</dt>
            <dd>{format!("{} by {}", fmt_time(e.created_at), e.created_by)}</dd>
        </dl>
    }
}

#[component]
fn AdminActions(e: Endpoint, a: Actions) -> impl IntoView {
    let err = Signal::derive(move || {
        a.test
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| a.rotate.value().get().and_then(Result::err))
            .or_else(|| a.end_previous.value().get().and_then(Result::err))
    });
    let end_previous = e.previous_secret_until.map(|at| {
        let id = e.id.clone();
        view! {
            <Confirm summary="End previous secret…" label="End previous secret…"
                text=format!("The previous signing secret would still sign until {}. End it now, once every receiver uses the new one?", fmt_time(at))>
                <ActionForm action=a.end_previous>
                    <input type="hidden" name="id" value=id/>
                    <button type="submit" class="danger">"End previous secret now"</button>
                </ActionForm>
            </Confirm>
        }
    });
    let (test_id, rotate_id) = (e.id.clone(), e.id.clone());
    view! {
        <section class="card" aria-labelledby="actions-title">
            <h2 id="actions-title">"Actions"</h2>
            <ActionForm action=a.test attr:class="inline">
                <input type="hidden" name="id" value=test_id/>
                <button type="submit" disabled=move || a.test.pending().get()>"Send test event"</button>
            </ActionForm>
            <Confirm summary="Rotate signing secret…" label="Rotate signing secret…"
                text="A new signing secret is made and shown once. For 24 hours each delivery is signed with the old one too, so receivers can switch without losing one.">
                <ActionForm action=a.rotate>
                    <FormToken/>
                    <input type="hidden" name="id" value=rotate_id/>
                    <button type="submit" class="primary" disabled=move || a.rotate.pending().get()>"Rotate signing secret"</button>
                </ActionForm>
            </Confirm>
            {end_previous}
            <FormError err/>
        </section>
    }
}

#[component]
fn Settings(e: Endpoint, a: Actions) -> impl IntoView {
    let err = Signal::derive(move || a.update.value().get().and_then(Result::err));
    let delete_err = Signal::derive(move || a.delete.value().get().and_then(Result::err));
    let (save_id, delete_id) = (e.id.clone(), e.id.clone());
    view! {
        <section class="card" aria-labelledby="settings-title">
            <h2 id="settings-title">"Settings"</h2>
            <ActionForm action=a.update>
                <input type="hidden" name="id" value=save_id/>
                <EndpointFields prefix="e" current=Some(e) err/>
                <button type="submit" class="primary" disabled=move || a.update.pending().get()>"Save changes"</button>
            </ActionForm>
            <FormError err/>
        </section>
        <section class="card danger-zone" aria-labelledby="delete-title">
            <h2 id="delete-title">"Delete"</h2>
            <Confirm summary="Delete endpoint…" label="Delete endpoint…"
                text="Delete this endpoint with its deliveries? Events still waiting for it are dropped, and nothing more is sent to it.">
                <ActionForm action=a.delete>
                    <input type="hidden" name="id" value=delete_id/>
                    <button type="submit" class="danger">"Delete endpoint"</button>
                </ActionForm>
            </Confirm>
            <FormError err=delete_err/>
        </section>
    }
}
