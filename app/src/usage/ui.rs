//! The chart of a client's last 30 days: one bar per day (tokens issued and introspections),
//! marks on the days of rotations and revocations, drawn as SVG on the server so that it shows
//! without JavaScript. The same numbers follow as a table.

use leptos::prelude::*;

use super::{fmt_day, DayUse, UsageView};
use crate::error::AppError;
use crate::ui::LoadError;

/// The "Use" card of a client's page.
#[component]
pub fn UsageSection(usage: Resource<Result<UsageView, AppError>>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="usage-title">
            <h2 id="usage-title">"Use over the last 30 days"</h2>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading use…"</p> }>
                {move || Suspend::new(async move {
                    match usage.await {
                        Ok(v) => view! { <UsageChart v/> }.into_any(),
                        Err(e) => view! { <LoadError err=e/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

const BAR: i64 = 10;
const GAP: i64 = 2;
const HEIGHT: i64 = 100;

/// The chart and its table.
#[component]
pub fn UsageChart(v: UsageView) -> impl IntoView {
    let max = v.days.iter().map(DayUse::total).max().unwrap_or(0);
    let total: i64 = v.days.iter().map(DayUse::total).sum();
    let width = v.days.len() as i64 * (BAR + GAP);
    let events = v
        .days
        .iter()
        .filter(|d| d.rotations + d.revocations > 0)
        .count();
    let summary = if total == 0 {
        "No tokens issued or checked in the last 30 days.".to_string()
    } else {
        format!(
            "{total} requests in the last 30 days, at most {max} in a day; {events} day{} with a rotation or revocation. The numbers are in the table below.",
            if events == 1 { "" } else { "s" }
        )
    };
    let kinds = v.kinds();
    let bars = v
        .days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let x = i as i64 * (BAR + GAP);
            let h = if max == 0 {
                0
            } else {
                (d.total() * HEIGHT + max - 1) / max
            };
            let mark = |class: &'static str, on: bool| {
                on.then(|| {
                    view! {
                        <line class=class x1=x + BAR / 2 x2=x + BAR / 2 y1=0 y2=HEIGHT/>
                    }
                })
            };
            view! {
                <g>
                    {mark("mark-rotation", d.rotations > 0)}
                    {mark("mark-revocation", d.revocations > 0)}
                    <rect class="bar" x=x y=HEIGHT - h width=BAR height=h>
                        <title>{format!("{}: {}", fmt_day(d.day), d.total())}</title>
                    </rect>
                </g>
            }
        })
        .collect_view();
    let rows = v
        .days
        .iter()
        .rev()
        .map(|d| {
            let cells = kinds
                .iter()
                .map(|k| {
                    let i = super::UseKind::ALL.iter().position(|x| x == k).unwrap_or(0);
                    view! { <td class="num">{d.counts[i]}</td> }
                })
                .collect_view();
            let mut notes = Vec::new();
            if d.rotations > 0 {
                notes.push(plural(d.rotations, "rotation"));
            }
            if d.revocations > 0 {
                notes.push(plural(d.revocations, "revocation"));
            }
            view! {
                <tr>
                    <th scope="row">{fmt_day(d.day)}</th>
                    {cells}
                    <td class="num">{d.total()}</td>
                    <td>{notes.join(", ")}</td>
                </tr>
            }
        })
        .collect_view();
    let heads = kinds
        .iter()
        .map(|k| view! { <th scope="col" class="num">{k.label()}</th> })
        .collect_view();
    view! {
        <figure class="usage">
            <svg class="usage-chart" role="img" aria-labelledby="usage-summary"
                viewBox=format!("0 0 {width} {HEIGHT}") preserveAspectRatio="none">
                {bars}
            </svg>
            <figcaption id="usage-summary">
                {summary}
                <span class="legend">
                    <span class="key rotation">"rotation"</span>
                    <span class="key revocation">"revocation"</span>
                </span>
            </figcaption>
        </figure>
        <details class="usage-table">
            <summary>"Daily numbers"</summary>
            <table class="data">
                <caption>"Requests per day, newest first"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Day (UTC)"</th>
                        {heads}
                        <th scope="col" class="num">"Total"</th>
                        <th scope="col">"Secrets"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </details>
    }
}

fn plural(n: u32, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}
