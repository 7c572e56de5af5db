//! `/overview`, the first page after sign-in: what needs attention today, one group per card,
//! each item with the one action that fits it. `?group=…&after=…` pages through one group.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::attention_overview;
use super::{days_left, Attention, AttentionItem, Group, GroupPage, Reason};
use crate::clients::api::SetClientEnabled;
use crate::error::AppError;
use crate::secrets::api::RevokeSecret;
use crate::signin::ui::{AuthCtx, Guarded};
use crate::ui::{fmt_time, Confirm, FormError, LoadError};

#[derive(Clone, Copy)]
struct OverviewState {
    data: Resource<Result<Attention, AppError>>,
    revoke: ServerAction<RevokeSecret>,
    disable: ServerAction<SetClientEnabled>,
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let query = use_query_map();
    let revoke = ServerAction::<RevokeSecret>::new();
    let disable = ServerAction::<SetClientEnabled>::new();
    let data = Resource::new(
        move || {
            let q = query.read();
            (
                q.get("group"),
                q.get("after"),
                revoke.version().get(),
                disable.version().get(),
            )
        },
        |(group, after, ..)| attention_overview(group, after),
    );
    let st = OverviewState {
        data,
        revoke,
        disable,
    };
    view! {
        <Guarded>
            <Overview st/>
        </Guarded>
    }
}

#[component]
fn Overview(st: OverviewState) -> impl IntoView {
    let auth = expect_context::<AuthCtx>();
    let query = use_query_map();
    let revoke_err = Signal::derive(move || st.revoke.value().get().and_then(Result::err));
    let disable_err = Signal::derive(move || st.disable.value().get().and_then(Result::err));
    let notice = move || {
        if matches!(st.revoke.value().get(), Some(Ok(()))) {
            return Some("The secret was revoked. Apps that still use it are refused from now on.");
        }
        if matches!(st.disable.value().get(), Some(Ok(_))) {
            return Some("The client was disabled. It gets no more tokens until an administrator enables it.");
        }
        (query.read().get("done").as_deref() == Some("revoked"))
            .then_some("The secret was revoked. Apps that still use it are refused from now on.")
    };
    view! {
        <h1>"Overview"</h1>
        <p class="status" role="status">{notice}</p>
        <FormError err=revoke_err/>
        <FormError err=disable_err/>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading the overview…"</p> }>
            {move || Suspend::new(async move {
                let a = match st.data.await {
                    Ok(a) => a,
                    Err(e) => return view! { <LoadError err=e/> }.into_any(),
                };
                let admin = auth.is_admin();
                let paging = a.groups.len() == 1;
                let intro = match (a.policy_set, a.notice_secs) {
                    (true, Some(n)) => format!("Secrets expire by policy. “Expiring soon” looks {} ahead.", crate::secrets::fmt_duration(n)),
                    (true, None) => "Secrets expire by policy.".to_string(),
                    (false, _) => "No lifetime policy is set (secret_max_lifetime): secrets expire only where a client has its own lifetime.".to_string(),
                };
                view! {
                    <p class="hint">{intro}</p>
                    {paging.then(|| view! { <p><a href="/overview">"← The whole overview"</a></p> })}
                    {a.groups.into_iter().map(|g| view! {
                        <GroupCard g now=a.now unused_days=a.unused_days admin st/>
                    }).collect_view()}
                }.into_any()
            })}
        </Transition>
    }
}

#[component]
fn GroupCard(
    g: GroupPage,
    now: i64,
    unused_days: i64,
    admin: bool,
    st: OverviewState,
) -> impl IntoView {
    let name = g.group.as_str();
    let count = count_text(&g);
    let (title_id, labelled_by) = (format!("g-{name}"), format!("g-{name}"));
    let next = g
        .next
        .clone()
        .map(|after| format!("/overview?group={name}&after={after}"));
    view! {
        <section class=format!("card attention {name}") aria-labelledby=labelled_by>
            <h2 id=title_id>
                {g.group.title()} " " <span class="count" aria-label=format!("{count} items")>{count.clone()}</span>
            </h2>
            {if g.items.is_empty() {
                view! { <p class="empty">{g.group.empty_text()}</p> }.into_any()
            } else {
                view! {
                    <table class="data">
                        <thead>
                            <tr>
                                <th scope="col">"Client"</th>
                                <th scope="col">"Why"</th>
                                <th scope="col"><span class="visually-hidden">"Action"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {g.items.into_iter().map(|i| view! { <ItemRow i group=g.group now unused_days admin st/> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            {next.map(|href| view! { <p><a href=href>{format!("More: {}", g.group.title())}</a></p> })}
        </section>
    }
}

/// What the item is about, in words.
fn why(i: &AttentionItem, now: i64, unused_days: i64) -> String {
    let hint = i.secret_hint.clone().unwrap_or_default();
    let last = |at: Option<i64>| at.map(fmt_time).unwrap_or_else(|| "never".into());
    match i.reason {
        Reason::SecretExpired => format!(
            "Secret …{hint} expired {}.",
            i.expires_at.map(fmt_time).unwrap_or_default()
        ),
        Reason::NoSecret => "No current secret.".into(),
        Reason::DisabledInUse => format!("Disabled, but used {}.", last(i.last_used_at)),
        Reason::Expiring => {
            let at = i.expires_at.unwrap_or(now);
            let days = days_left(at, now);
            format!(
                "Secret …{hint} expires {} ({} day{} left).",
                fmt_time(at),
                days,
                if days == 1 { "" } else { "s" }
            )
        }
        Reason::RotatedInUse => {
            let n = i.requests_7d.unwrap_or(0);
            format!(
                "Rotated secret …{hint} was used {}; {n} request{} in the last 7 days.",
                last(i.last_used_at),
                if n == 1 { "" } else { "s" }
            )
        }
        Reason::UnusedRotated => format!(
            "Rotated secret …{hint}, rotated {}, last used {} (nothing since its rotation or in {unused_days} days).",
            last(i.rotated_at),
            last(i.last_used_at)
        ),
        Reason::NeverUsed => format!("Never used (created {}).", last(i.created_at)),
        Reason::Unused => format!("Last used {}.", last(i.last_used_at)),
        Reason::NoExpiry => format!(
            "Secret …{hint} (created {}) has no expiry: it was made before the policy.",
            last(i.created_at)
        ),
    }
}

#[component]
fn ItemRow(
    i: AttentionItem,
    group: Group,
    now: i64,
    unused_days: i64,
    admin: bool,
    st: OverviewState,
) -> impl IntoView {
    let href = format!("/clients/{}", i.client_id);
    let text = why(&i, now, unused_days);
    let name = i.client_name.clone();
    let action = match (group, i.reason) {
        (Group::SafeToRevoke, _) => i.secret_id.map(|sid| {
            let hint = i.secret_hint.clone().unwrap_or_default();
            let revoke = st.revoke;
            view! {
                <Confirm summary="Revoke…" label=format!("Revoke: secret …{hint} of {name}")
                    text=format!("Revoke secret …{hint} of {name}? Apps that still use it are refused from their next request. This cannot be undone.")>
                    <ActionForm action=revoke>
                        <input type="hidden" name="client_id" value=i.client_id.clone()/>
                        <input type="hidden" name="secret_id" value=sid.to_string()/>
                        <input type="hidden" name="from" value="overview"/>
                        <button type="submit" class="danger" disabled=move || revoke.pending().get()>{format!("Revoke secret …{hint}")}</button>
                    </ActionForm>
                </Confirm>
            }.into_any()
        }),
        (Group::IdleClients, _) if admin => {
            let disable = st.disable;
            Some(view! {
                <Confirm summary="Disable…" label=format!("Disable: {name}")
                    text=format!("Disable {name}? From its next request it gets no tokens, with any secret, until an administrator enables it again.")>
                    <ActionForm action=disable>
                        <input type="hidden" name="client_id" value=i.client_id.clone()/>
                        <input type="hidden" name="enabled" value="false"/>
                        <button type="submit" class="danger" disabled=move || disable.pending().get()>{format!("Disable {name}")}</button>
                    </ActionForm>
                </Confirm>
            }.into_any())
        }
        (Group::CannotGetTokens | Group::ExpiringSoon | Group::NoExpiry, r) if admin && r != Reason::DisabledInUse => {
            let label = if r == Reason::NoSecret { "Create secret…" } else { "Rotate…" };
            Some(view! {
                <a class="button" href=format!("{href}?confirm=rotate#secret-title")
                    aria-label=format!("{} {name}", label.trim_end_matches('…'))>{label}</a>
            }.into_any())
        }
        _ => None,
    };
    view! {
        <tr>
            <th scope="row"><a href=href.clone()>{i.client_name.clone()}</a></th>
            <td>{text}</td>
            <td>{action}</td>
        </tr>
    }
}

/// The badge's count: made by the layout before anything that renders again (see
/// `clients::ui::list::ClientsPage`), and read again on every navigation, so that a rotation
/// elsewhere updates it.
pub type BadgeCount = Resource<Result<i64, AppError>>;

pub fn badge_count() -> BadgeCount {
    let location = leptos_router::hooks::use_location();
    Resource::new(
        move || location.pathname.get(),
        |_| super::api::attention_badge(),
    )
}

/// A group's count as shown: "1000+" past the count's cap.
fn count_text(g: &GroupPage) -> String {
    match g.count_capped {
        true => format!("{}+", g.count),
        false => g.count.to_string(),
    }
}

/// The navigation's link to the Overview, with `count` (items of the urgent groups) as a badge.
/// The navigation awaits the count in its own `Suspend`, next to the account: a `Transition`
/// of its own inside that one rendered differently on the server and broke hydration.
#[component]
pub fn OverviewLink(count: i64) -> impl IntoView {
    view! {
        <leptos_router::components::A href="/overview">
            "Overview"
            {(count > 0).then(|| view! {
                " " <span class="badge" title="Clients that cannot get tokens or whose secret expires soon">
                    {if count > 99 { "99+".to_string() } else { count.to_string() }}
                    <span class="visually-hidden">" need attention"</span>
                </span>
            })}
        </leptos_router::components::A>
    }
}
