//! An endpoint's deliveries, newest first: a filter by state (a GET form, so it works without
//! JavaScript and the address can be shared), each attempt with its time, status, latency and
//! error, "Deliver again" for a failed one (administrators), and "Older deliveries". While a
//! delivery is waiting, the hydrated page reads the table again every few seconds.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;
use crate::ui::{fmt_time, FormError, LoadError};
use crate::webhooks::api::Redeliver;
use crate::webhooks::{Attempt, Delivery, DeliveryPage, DeliveryState};

/// The deliveries' resource and what reads it again, made by the page before `Guarded`.
#[derive(Clone, Copy)]
pub struct DeliveriesState {
    pub page: Resource<Result<DeliveryPage, AppError>>,
    pub redeliver: ServerAction<Redeliver>,
}

impl DeliveriesState {
    /// `sent`: what changes when a test event was sent (the table then shows it).
    pub fn new(id: Signal<String>, sent: Signal<usize>) -> Self {
        let query = use_query_map();
        let redeliver = ServerAction::<Redeliver>::new();
        let tick = RwSignal::new(0u32);
        let page = Resource::new(
            move || {
                let q = query.read();
                (
                    id.get(),
                    q.get("state").unwrap_or_default(),
                    q.get("before").and_then(|b| b.parse::<i64>().ok()),
                    sent.get(),
                    redeliver.version().get(),
                    tick.get(),
                )
            },
            |(id, state, before, ..)| super::super::api::list_deliveries(id, state, before),
        );
        // Waiting deliveries change on their own: look again in a few seconds.
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| {
            let waiting = matches!(page.get(), Some(Ok(p)) if p.deliveries.iter().any(|d| d.state == DeliveryState::Pending));
            if waiting {
                set_timeout(
                    move || {
                        tick.try_update(|n| *n += 1);
                    },
                    std::time::Duration::from_secs(2),
                );
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = tick;
        DeliveriesState { page, redeliver }
    }
}

#[component]
pub fn Deliveries(st: DeliveriesState, id: String, admin: bool) -> impl IntoView {
    let query = use_query_map();
    let state = move || query.read().get("state").unwrap_or_default();
    let base = format!("/webhooks/{id}");
    let older_href = {
        let base = base.clone();
        move |before: i64| {
            let mut q = query.get();
            q.replace("before", before.to_string());
            format!("{base}{}", q.to_query_string())
        }
    };
    let newest_href = {
        let base = base.clone();
        move || match state() {
            s if s.is_empty() => base.clone(),
            s => format!("{base}?state={s}"),
        }
    };
    let redeliver = st.redeliver;
    let err = Signal::derive(move || redeliver.value().get().and_then(Result::err));
    let page = st.page;
    view! {
        <section class="card" aria-labelledby="deliveries-title">
            <h2 id="deliveries-title">"Deliveries"</h2>
            <Form method="GET" action=base.clone() attr:class="filters" attr:aria-label="Filter deliveries">
                <div class="field">
                    <label for="d-state">"State"</label>
                    <select id="d-state" name="state">
                        <option value="">"Every state"</option>
                        {[DeliveryState::Pending, DeliveryState::Delivered, DeliveryState::Failed]
                            .into_iter()
                            .map(|s| {
                                let selected = move || state() == s.as_str();
                                view! { <option value=s.as_str() selected=selected>{state_label(s)}</option> }
                            })
                            .collect_view()}
                    </select>
                </div>
                <button type="submit">"Show"</button>
            </Form>
            <FormError err/>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading deliveries…"</p> }>
                {move || {
                    let (older_href, newest_href, id) = (older_href.clone(), newest_href.clone(), id.clone());
                    Suspend::new(async move {
                        match page.await {
                            Err(e) => view! { <LoadError err=e/> }.into_any(),
                            Ok(p) if p.deliveries.is_empty() => view! {
                                <p class="empty">{if state().is_empty() {
                                    "No deliveries yet. Send a test event to try the endpoint."
                                } else {
                                    "No deliveries in this state."
                                }}</p>
                            }.into_any(),
                            Ok(p) => {
                                let next = p.next_before;
                                let paged = query.read().get("before").is_some();
                                view! {
                                    <table class="data deliveries">
                                        <caption class="visually-hidden">"Deliveries, newest first"</caption>
                                        <thead><tr>
                                            <th scope="col">"Event"</th>
                                            <th scope="col">"Created"</th>
                                            <th scope="col">"State"</th>
                                            <th scope="col">"Attempts"</th>
                                            {admin.then(|| view! { <th scope="col"><span class="visually-hidden">"Action"</span></th> })}
                                        </tr></thead>
                                        <tbody>
                                            {p.deliveries.into_iter().map(|d| view! {
                                                <DeliveryRow d id=id.clone() admin redeliver/>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    <nav class="pager" aria-label="Pages of deliveries">
                                        {paged.then(|| view! { <a href=newest_href()>"Newest deliveries"</a> })}
                                        {next.map(|b| view! { <a href=older_href(b)>"Older deliveries"</a> })}
                                    </nav>
                                }.into_any()
                            }
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

fn state_label(s: DeliveryState) -> &'static str {
    match s {
        DeliveryState::Pending => "Waiting",
        DeliveryState::Delivered => "Delivered",
        DeliveryState::Failed => "Failed",
    }
}

#[component]
fn DeliveryRow(
    d: Delivery,
    id: String,
    admin: bool,
    redeliver: ServerAction<Redeliver>,
) -> impl IntoView {
    let when = match d.state {
        DeliveryState::Pending => d.next_at.map(|at| format!("next attempt {}", fmt_time(at))),
        _ => d.finished_at.map(fmt_time),
    };
    let again = (admin && d.state == DeliveryState::Failed).then(|| {
        let label = format!("Deliver {} again", d.event_id);
        view! {
            <ActionForm action=redeliver>
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="delivery" value=d.id.to_string()/>
                <button type="submit" aria-label=label>"Deliver again"</button>
            </ActionForm>
        }
    });
    view! {
        <tr class=format!("delivery {}", d.state.as_str())>
            <td><code>{d.event_type.clone()}</code><br/><small><code>{d.event_id.clone()}</code></small></td>
            <td>{fmt_time(d.created_at)}</td>
            <td><strong>{state_label(d.state)}</strong>{when.map(|w| view! { <br/><small>{w}</small> })}</td>
            <td><Attempts attempts=d.attempts/></td>
            {admin.then(|| view! { <td>{again}</td> })}
        </tr>
    }
}

#[component]
fn Attempts(attempts: Vec<Attempt>) -> impl IntoView {
    if attempts.is_empty() {
        return view! { <span>"none yet"</span> }.into_any();
    }
    view! {
        <ol class="attempts">
            {attempts.into_iter().map(|a| {
                let status = a.status.map_or_else(|| "no answer".to_string(), |s| format!("HTTP {s}"));
                let error = a.error.map(|e| format!(": {e}"));
                view! {
                    <li>{fmt_time(a.at)}" — "{status}" in "{a.latency_ms}" ms"{error}</li>
                }
            }).collect_view()}
        </ol>
    }
    .into_any()
}
