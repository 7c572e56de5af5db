//! The secrets panel of a client's page: the current secret, rotation (administrators), and
//! "Previously used secrets" with revocation (both roles).

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_location, use_query_map};

use super::expiry::{expiry_text, lifetime_text, share_text};
use super::one_time::OneTimeSlot;
use super::reveal::{here, revealable, RevealButton, RevealConfirm};
use crate::error::AppError;
use crate::secrets::api::{
    secret_overview, RevealSecret, RevokeAllRotated, RevokeSecret, RotateSecret,
};
use crate::secrets::{
    fmt_duration, rotation_overflow, SecretMeta, SecretState, SecretsView, GRACE_CHOICES,
    UNTIL_REVOKED,
};
use crate::ui::form_token::FormToken;
use crate::ui::{fmt_time, focus_on_show, Confirm, FieldError, FormError, LoadError, ReturnFocus};

/// The panel's actions and its read of the secrets. Made by the page before anything that may
/// render again on the server (see `clients::ui::list::ClientsPage`), so that the resource is
/// made once and keeps its place among the page's resources when the browser hydrates.
#[derive(Clone, Copy)]
pub struct SecretsState {
    pub client_id: Signal<String>,
    pub rotate: ServerAction<RotateSecret>,
    pub revoke: ServerAction<RevokeSecret>,
    pub revoke_all: ServerAction<RevokeAllRotated>,
    pub reveal: ServerAction<RevealSecret>,
    pub overview: Resource<Result<SecretsView, AppError>>,
}

impl SecretsState {
    pub fn new(client_id: Signal<String>) -> Self {
        let rotate = ServerAction::<RotateSecret>::new();
        let revoke = ServerAction::<RevokeSecret>::new();
        let revoke_all = ServerAction::<RevokeAllRotated>::new();
        let reveal = ServerAction::<RevealSecret>::new();
        let overview = Resource::new(
            move || {
                (
                    client_id.get(),
                    rotate.version().get(),
                    revoke.version().get(),
                    revoke_all.version().get(),
                )
            },
            |(id, ..)| secret_overview(id),
        );
        SecretsState {
            client_id,
            rotate,
            revoke,
            revoke_all,
            reveal,
            overview,
        }
    }
}

/// The current secret, rotation (admins), and "Previously used secrets" with revocation
/// (admins and support). Confirmations are steps in the URL (`?confirm=rotate`,
/// `?confirm=revoke-all`), so they work without JavaScript too.
#[component]
pub fn SecretsPanel(
    st: SecretsState,
    admin: Signal<bool>,
    /// Bumped after every change made here, so that the page's history can refresh.
    changes: RwSignal<u32>,
) -> impl IntoView {
    let slot = expect_context::<OneTimeSlot>();
    let query = use_query_map();
    let location = use_location();
    let SecretsState {
        client_id,
        rotate,
        revoke,
        revoke_all,
        reveal,
        overview: view_res,
    } = st;
    Effect::new(move |prev: Option<usize>| {
        let n = rotate.version().get()
            + revoke.version().get()
            + revoke_all.version().get()
            + reveal.version().get();
        if prev.is_some_and(|p| p != n) {
            changes.update(|c| *c += 1);
        }
        n
    });
    Effect::new(move |_| slot.take_then_go(rotate.value(), |out| out));
    Effect::new(move |_| slot.take_then_go(reveal.value(), |out| out));
    Effect::new(move |_| {
        if let Some(Ok(_)) = revoke_all.value().get() {
            leptos_router::hooks::use_navigate()(
                &location.pathname.get_untracked(),
                Default::default(),
            );
        }
    });
    let confirm = move || query.read().get("confirm").unwrap_or_default();
    let back_to_rotate = ReturnFocus::new(move || confirm() == "rotate");
    let back_to_revoke_all = ReturnFocus::new(move || confirm() == "revoke-all");
    let rotate_err = Signal::derive(move || rotate.value().get().and_then(Result::err));
    let revoke_err = Signal::derive(move || revoke.value().get().and_then(Result::err));
    let revoke_all_err = Signal::derive(move || revoke_all.value().get().and_then(Result::err));
    let reveal_err = Signal::derive(move || reveal.value().get().and_then(Result::err));
    let notice = move || {
        if matches!(revoke.value().get(), Some(Ok(()))) {
            return Some(
                "The secret was revoked. Apps that still use it are refused from now on."
                    .to_string(),
            );
        }
        if let Some(Ok(n)) = revoke_all.value().get() {
            return Some(format!(
                "Revoked {n} rotated secret{}.",
                if n == 1 { "" } else { "s" }
            ));
        }
        match query.read().get("done").as_deref() {
            Some("revoked") => Some(
                "The secret was revoked. Apps that still use it are refused from now on.".into(),
            ),
            Some("revoked-all") => Some("Every rotated secret was revoked.".into()),
            _ => None,
        }
    };

    view! {
        <section class="card secrets" aria-labelledby="secret-title">
            <h2 id="secret-title">"Secret"</h2>
            <p class="status" role="status">{notice}</p>
            <FormError err=revoke_err/>
            <FormError err=revoke_all_err/>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading secrets…"</p> }>
                {move || Suspend::new(async move {
                    let v = match view_res.await {
                        Ok(v) => v,
                        Err(e) => return view! { <LoadError err=e/> }.into_any(),
                    };
                    if !v.has_secret {
                        return view! {
                            <p>"Public clients have no secret: their code runs on people's devices, where any secret could be read. They prove themselves with PKCE instead."</p>
                        }.into_any();
                    }
                    let id = client_id.get_untracked();
                    let is_admin = admin.get_untracked();
                    let rotating = is_admin && confirm() == "rotate";
                    let confirming_all = confirm() == "revoke-all";
                    let revealing = (is_admin && confirm() == "reveal")
                        .then(|| query.read().get("secret").and_then(|s| s.parse::<i64>().ok()))
                        .flatten()
                        .and_then(|sid| revealable(&v).into_iter().find(|m| m.id == sid));
                    view! {
                        <CurrentSecret v=v.clone() admin=is_admin/>
                        {revealing.map(|m| {
                            let file = query.read().get("file").unwrap_or_default();
                            view! { <RevealConfirm m id=id.clone() file reveal err=reveal_err/> }
                        })}
                        {admin.get_untracked().then(|| if rotating {
                            view! { <RotateConfirm v=v.clone() id=id.clone() rotate err=rotate_err/> }.into_any()
                        } else {
                            let label = if v.current.is_some() { "Rotate secret" } else { "Create secret" };
                            view! {
                                <Form method="GET" action=here() attr:class="inline">
                                    <input type="hidden" name="confirm" value="rotate"/>
                                    <button type="submit" node_ref=back_to_rotate.trigger data-return-focus="">{label}</button>
                                </Form>
                                <FormError err=rotate_err/>
                            }.into_any()
                        })}
                        <PreviousSecrets v id confirming_all admin=is_admin revoke revoke_all trigger=back_to_revoke_all.trigger/>
                    }.into_any()
                })}
            </Transition>
        </section>
    }
}

fn last_used(at: Option<i64>) -> String {
    at.map(fmt_time).unwrap_or_else(|| "never".into())
}

/// How a secret is stored, in words; `stored_readable` is what new secrets get.
fn storage_text(m: &SecretMeta, stored_readable: bool) -> &'static str {
    match (m.readable, stored_readable) {
        (true, _) => "Readable: an administrator can reveal it.",
        (false, true) => "Hash only, not readable: rotate to get a readable secret.",
        (false, false) => "Hash only: it cannot be shown again.",
    }
}

#[component]
fn CurrentSecret(v: SecretsView, admin: bool) -> impl IntoView {
    let stored_readable = v.stored_readable;
    let lifetime = lifetime_text(&v);
    match v.current {
        Some(c) => {
            let reveal = (admin && c.readable).then(|| view! { <RevealButton m=c.clone()/> });
            view! {
                <dl class="secret-facts" id=format!("secret-{}", c.id)>
                    <dt>"Current secret"</dt>
                    <dd><code>{format!("…{}", c.hint)}</code></dd>
                    <dt>"Created"</dt>
                    <dd>{format!("{} by {}", fmt_time(c.created_at), c.created_by)}</dd>
                    <dt>"Expires"</dt>
                    <dd class="expires">{expiry_text(&c)} <small>" " {lifetime}</small></dd>
                    <dt>"Last used"</dt>
                    <dd>{last_used(c.last_used_at)} {share_text(&c).map(|s| view! { <small>{format!(" · {s}")}</small> })}</dd>
                    <dt>"Storage"</dt>
                    <dd>{storage_text(&c, stored_readable)} " " {reveal}</dd>
                </dl>
            }
            .into_any()
        }
        None => view! {
            <p>"This client has no current secret, so it cannot authenticate. An administrator can create one."</p>
        }
        .into_any(),
    }
}

#[component]
fn RotateConfirm(
    v: SecretsView,
    id: String,
    rotate: ServerAction<RotateSecret>,
    err: Signal<Option<AppError>>,
) -> impl IntoView {
    let Some(current) = v.current.clone() else {
        // No secret yet: "rotating" issues the first one.
        let panel = NodeRef::new();
        focus_on_show(panel);
        return view! {
            <div class="confirm-panel" role="dialog" aria-labelledby="rotate-title" node_ref=panel>
                <h3 id="rotate-title" tabindex="-1">"Create a secret?"</h3>
                <p>"A new secret is created and shown once."</p>
                <ActionForm action=rotate>
                    <FormToken/>
                    <input type="hidden" name="client_id" value=id.clone()/>
                    <input type="hidden" name="grace" value=""/>
                    <button type="submit" class="primary" disabled=move || rotate.pending().get()>"Create secret"</button>
                    " "
                    <a href=here()>"Cancel"</a>
                </ActionForm>
                <FormError err/>
            </div>
        }
        .into_any();
    };
    let mut after: Vec<SecretMeta> = vec![current.clone()];
    after.extend(
        v.previous
            .iter()
            .filter(|m| m.state == SecretState::Rotated)
            .cloned(),
    );
    let revoked = rotation_overflow(&after, v.max_rotated);
    let default_grace = v.default_grace_secs;
    let mut choices: Vec<(i64, String)> = GRACE_CHOICES
        .iter()
        .map(|(s, l)| (*s, l.to_string()))
        .collect();
    if let Some(d) = default_grace.filter(|d| !choices.iter().any(|(s, _)| s == d)) {
        choices.push((d, fmt_duration(d)));
        choices.sort();
    }
    let keeps_none = v.max_rotated == 0;
    let panel = NodeRef::new();
    focus_on_show(panel);
    view! {
        <div class="confirm-panel" role="dialog" aria-labelledby="rotate-title" node_ref=panel>
            <h3 id="rotate-title" tabindex="-1">"Rotate the secret?"</h3>
            <p>
                "A new secret is created and shown once. "
                {if keeps_none {
                    format!("This installation keeps no rotated secrets, so the current secret …{} stops working at once.", current.hint)
                } else {
                    format!("The current secret …{} stays valid as a rotated secret, so apps keep working until you deploy the new one.", current.hint)
                }}
            </p>
            {(!revoked.is_empty() && !keeps_none).then(|| view! {
                <div class="warning-text">
                    <p>{format!(
                        "A client keeps at most {} rotated secret{}, so this rotation revokes:",
                        v.max_rotated,
                        if v.max_rotated == 1 { "" } else { "s" }
                    )}</p>
                    <ul>
                        {revoked.iter().map(|m| view! {
                            <li><code>{format!("…{}", m.hint)}</code>{format!(", last used {}", last_used(m.last_used_at))}</li>
                        }).collect_view()}
                    </ul>
                </div>
            })}
            <ActionForm action=rotate>
                <FormToken/>
                <input type="hidden" name="client_id" value=id.clone()/>
                {(!keeps_none).then(|| view! {
                    <fieldset class="question">
                        <legend>"Keep the old secret valid"</legend>
                        <label>
                            <input type="radio" name="grace" value=UNTIL_REVOKED checked=default_grace.is_none()/>
                            {match current.expires_at {
                                // A grace period never outlives the secret's own lifetime.
                                Some(at) => format!(" Until it is revoked, or until it expires {}", fmt_time(at)),
                                None => " Until it is revoked".to_string(),
                            }}
                        </label>
                        {choices.into_iter().map(|(secs, label)| view! {
                            <label>
                                <input type="radio" name="grace" value=secs.to_string() checked=default_grace == Some(secs)/>
                                {format!(" For {label}")}
                            </label>
                        }).collect_view()}
                    </fieldset>
                })}
                {keeps_none.then(|| view! { <input type="hidden" name="grace" value=UNTIL_REVOKED/> })}
                <button type="submit" class="primary" disabled=move || rotate.pending().get()>"Rotate secret"</button>
                " "
                <a href=here()>"Cancel"</a>
            </ActionForm>
            <FieldError err field="grace"/>
            <FormError err/>
        </div>
    }
    .into_any()
}

#[component]
fn PreviousSecrets(
    v: SecretsView,
    id: String,
    confirming_all: bool,
    admin: bool,
    revoke: ServerAction<RevokeSecret>,
    revoke_all: ServerAction<RevokeAllRotated>,
    /// "Revoke all rotated", which gets the focus back when its confirmation closes.
    trigger: NodeRef<leptos::html::Button>,
) -> impl IntoView {
    let rotated = v
        .previous
        .iter()
        .filter(|m| m.state == SecretState::Rotated)
        .count();
    let unused_days = v.unused_days;
    view! {
        <section class="previous" aria-labelledby="previous-title">
            <h3 id="previous-title">"Previously used secrets"</h3>
            {if v.previous.is_empty() {
                view! {
                    <p class="empty">"None yet. After a rotation the old secret is listed here, still valid until it is revoked or expires."</p>
                }.into_any()
            } else {
                view! {
                    <table class="data">
                        <thead>
                            <tr>
                                <th scope="col">"Secret"</th>
                                <th scope="col">"State"</th>
                                <th scope="col">"Created"</th>
                                <th scope="col">"Rotated"</th>
                                <th scope="col">"Last used"</th>
                                <th scope="col">"Expires"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {v.previous.into_iter().map(|m| {
                                let state = match (m.state, m.revoked_reason.as_deref()) {
                                    (SecretState::Revoked, Some("rotation limit")) => "Revoked (rotation limit)".to_string(),
                                    (SecretState::Revoked, _) => match &m.revoked_by {
                                        Some(by) => format!("Revoked by {by}"),
                                        None => "Revoked".to_string(),
                                    },
                                    (s, _) => s.label().to_string(),
                                };
                                let safe = m.safe_to_revoke.then(|| view! {
                                    <span class="tag safe" title=format!("Not used since its rotation, or in the last {unused_days} days")>"safe to revoke"</span>
                                });
                                let readable = (m.readable && m.state == SecretState::Rotated)
                                    .then(|| view! { <span class="tag">"readable"</span> });
                                let reveal = (admin && readable.is_some())
                                    .then(|| view! { <RevealButton m=m.clone()/> });
                                let id = id.clone();
                                view! {
                                    <tr id=format!("secret-{}", m.id)>
                                        <th scope="row"><code>{format!("…{}", m.hint)}</code></th>
                                        <td>{state} " " {safe} " " {readable}</td>
                                        <td>{fmt_time(m.created_at)}</td>
                                        <td>{m.rotated_at.map(fmt_time).unwrap_or_else(|| "—".into())}</td>
                                        <td>{last_used(m.last_used_at)} {share_text(&m).map(|s| view! { <small class="share">{format!(" · {s}")}</small> })}</td>
                                        <td>{match (m.state, m.expires_at) {
                                            (SecretState::Rotated | SecretState::Expired, Some(at)) => fmt_time(at),
                                            (SecretState::Rotated, None) => "when revoked".into(),
                                            _ => "—".into(),
                                        }}</td>
                                        <td>
                                            {reveal}
                                            {(m.state == SecretState::Rotated).then(|| {
                                                let hint = m.hint.clone();
                                                view! {
                                                    <Confirm summary="Revoke…" label=format!("Revoke: secret …{hint}")
                                                        text=format!("Revoke secret …{hint}? Apps that still use it are refused from their next request. This cannot be undone.")>
                                                        <ActionForm action=revoke>
                                                            <input type="hidden" name="client_id" value=id/>
                                                            <input type="hidden" name="secret_id" value=m.id.to_string()/>
                                                            <button type="submit" class="danger" disabled=move || revoke.pending().get()>{format!("Revoke secret …{hint}")}</button>
                                                        </ActionForm>
                                                    </Confirm>
                                                }
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            {(rotated > 0).then(|| if confirming_all {
                let panel = NodeRef::new();
                focus_on_show(panel);
                view! {
                    <div class="confirm-panel" role="dialog" aria-labelledby="revoke-all-title" node_ref=panel>
                        <h3 id="revoke-all-title" tabindex="-1">{format!("Revoke {rotated} rotated secret{}?", if rotated == 1 { "" } else { "s" })}</h3>
                        <p>"Apps still using a rotated secret are refused from their next request. The current secret keeps working."</p>
                        <ActionForm action=revoke_all>
                            <input type="hidden" name="client_id" value=id.clone()/>
                            <button type="submit" class="danger">"Revoke all rotated"</button>
                            " "
                            <a href=here()>"Cancel"</a>
                        </ActionForm>
                    </div>
                }.into_any()
            } else {
                view! {
                    <Form method="GET" action=here() attr:class="inline">
                        <input type="hidden" name="confirm" value="revoke-all"/>
                        <button type="submit" node_ref=trigger>"Revoke all rotated"</button>
                    </Form>
                }.into_any()
            })}
        </section>
    }
}
