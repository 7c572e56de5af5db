//! The audit log page `/audit` (administrators and support), with filters and pagination.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::api::list_audit;
use super::{AuditPage, AUDIT_ACTIONS};
use crate::error::AppError;
use crate::signin::ui::Guarded;
use crate::ui::{fmt_time, LoadError};

#[component]
pub fn AuditLogPage() -> impl IntoView {
    // Made here rather than inside `Guarded`'s async block; see `clients::ui::list::ClientsPage`.
    let query = use_query_map();
    let get = move |k: &str| query.read().get(k).filter(|v| !v.is_empty());
    let page = Resource::new(
        move || {
            (
                get("actor"),
                get("action"),
                get("from"),
                get("to"),
                get("before").and_then(|b| b.parse::<i64>().ok()),
            )
        },
        |(actor, action, from, to, before)| list_audit(actor, action, from, to, before),
    );
    view! {
        <Guarded>
            <AuditLog page/>
        </Guarded>
    }
}

#[component]
fn AuditLog(page: Resource<Result<AuditPage, AppError>>) -> impl IntoView {
    let query = use_query_map();
    let get = move |k: &str| query.read().get(k).filter(|v| !v.is_empty());
    let older_href = move |before: i64| {
        let mut q = query.get();
        q.replace("before", before.to_string());
        format!("/audit{}", q.to_query_string())
    };
    view! {
        <h1>"Audit log"</h1>
        <Form method="GET" action="/audit" attr:class="filters" attr:aria-label="Filter events">
            <div class="field">
                <label for="f-actor">"Actor"</label>
                <input id="f-actor" name="actor" maxlength=200 value=move || get("actor").unwrap_or_default()/>
            </div>
            <div class="field">
                <label for="f-action">"Action"</label>
                <select id="f-action" name="action">
                    <option value="">"Any action"</option>
                    {AUDIT_ACTIONS
                        .iter()
                        .map(|a| {
                            let selected = move || get("action").as_deref() == Some(*a);
                            view! { <option value=*a selected=selected>{*a}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-from">"From (UTC)"</label>
                <input id="f-from" name="from" type="datetime-local" value=move || get("from").unwrap_or_default()/>
            </div>
            <div class="field">
                <label for="f-to">"To (UTC)"</label>
                <input id="f-to" name="to" type="datetime-local" value=move || get("to").unwrap_or_default()/>
            </div>
            <button type="submit">"Apply filters"</button>
            <a href="/audit" class="button-link">"Clear"</a>
        </Form>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading events…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) if p.entries.is_empty() => view! {
                        <p class="empty">"No events match these filters."</p>
                    }.into_any(),
                    Ok(p) => {
                        let next = p.next_before;
                        view! {
                            <table class="data">
                                <caption class="visually-hidden">"Audit events, newest first"</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">"Time"</th>
                                        <th scope="col">"Actor"</th>
                                        <th scope="col">"Action"</th>
                                        <th scope="col">"Target"</th>
                                        <th scope="col">"From"</th>
                                        <th scope="col">"Detail"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {p.entries.into_iter().map(|e| view! {
                                        <tr>
                                            <td>{fmt_time(e.at)}</td>
                                            <td>{e.actor}</td>
                                            <td><code>{e.action}</code></td>
                                            <td>{e.target.unwrap_or_default()}</td>
                                            <td>{e.ip.unwrap_or_default()}</td>
                                            <td>{e.detail.unwrap_or_default()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <nav class="pager" aria-label="Pages">
                                {get("before").map(|_| view! { <a href="/audit">"Newest events"</a> })}
                                {next.map(|b| view! { <a href=older_href(b)>"Older events"</a> })}
                            </nav>
                        }.into_any()
                    }
                    Err(e) => view! { <LoadError err=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}
