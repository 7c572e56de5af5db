//! Client secrets: the wire types (metadata only, plus the one response type that hands a new
//! plaintext to its creator), the rules the browser and the server share (which secrets a
//! rotation revokes, when a rotated secret is safe to revoke), the server functions, and the
//! secrets panel of a client's page with the one-time secret dialog.
//!
//! The secret format and hash live in `format` (server only); the lifecycle service in
//! `ssr::secrets`.

#[cfg(feature = "ssr")]
pub mod format;

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::fmt_time;
use crate::ui::FormError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretState {
    /// The one secret a client uses now.
    Current,
    /// Replaced by a rotation, still valid until revoked or expired.
    Rotated,
    /// Revoked by a person or by the rotation limit. Never valid again.
    Revoked,
    /// Its grace period ended. Never valid again.
    Expired,
}

impl SecretState {
    pub fn label(self) -> &'static str {
        match self {
            SecretState::Current => "Current",
            SecretState::Rotated => "Rotated, still valid",
            SecretState::Revoked => "Revoked",
            SecretState::Expired => "Expired",
        }
    }
}

/// What the console may know about a secret: never its plaintext, never its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretMeta {
    pub id: i64,
    /// The last characters of the secret, to tell secrets apart.
    pub hint: String,
    pub state: SecretState,
    pub created_at: i64,
    pub created_by: String,
    pub rotated_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
    /// "revoked", "rotation limit" or "expired".
    pub revoked_reason: Option<String>,
    pub last_used_at: Option<i64>,
    /// A rotated secret nobody has used since it was rotated, or for a while.
    pub safe_to_revoke: bool,
}

/// The secrets of one client as its page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretsView {
    /// False for public clients, which never have a secret.
    pub has_secret: bool,
    pub current: Option<SecretMeta>,
    /// Rotated secrets (newest first), then revoked and expired ones (newest first).
    pub previous: Vec<SecretMeta>,
    pub max_rotated: u32,
    pub default_grace_secs: Option<i64>,
    pub unused_days: i64,
}

/// A newly issued secret in plaintext: the only type that carries one to a browser, in the one
/// response to the person who created or rotated it. Its `Debug` hides the value.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedSecretOnce {
    pub client_id: String,
    pub client_name: String,
    pub secret: String,
    pub hint: String,
}

impl std::fmt::Debug for IssuedSecretOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedSecretOnce")
            .field("client_id", &self.client_id)
            .field("hint", &self.hint)
            .finish_non_exhaustive()
    }
}

/// The answer of every call that issues secrets: the plaintexts to show once, and where to go
/// when the person is done. Without JavaScript the server turns it into a page (see
/// `ssr::one_time_page`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeSecrets {
    pub one_time_secrets: Vec<IssuedSecretOnce>,
    pub done_href: String,
}

/// Which rotated secrets a rotation revokes. `rotated_newest_first` holds the valid rotated
/// secrets after the rotation, the secret just rotated first; the client keeps the newest
/// `cap` of them and the rest are revoked.
pub fn rotation_overflow<T: Clone>(rotated_newest_first: &[T], cap: u32) -> Vec<T> {
    rotated_newest_first
        .iter()
        .skip(cap as usize)
        .cloned()
        .collect()
}

const DAY_MS: i64 = 86_400_000;

/// A rotated secret is safe to revoke when nothing used it since its rotation, or nothing used
/// it in the last `unused_days` days.
pub fn is_safe_to_revoke(m: &SecretMeta, now: i64, unused_days: i64) -> bool {
    if m.state != SecretState::Rotated {
        return false;
    }
    match (m.last_used_at, m.rotated_at) {
        (None, _) => true,
        (Some(used), Some(rotated)) if used <= rotated => true,
        (Some(used), _) => used < now - unused_days * DAY_MS,
    }
}

/// The grace periods offered when rotating, in seconds.
pub const GRACE_CHOICES: &[(i64, &str)] = &[
    (3600, "1 hour"),
    (86_400, "1 day"),
    (7 * 86_400, "7 days"),
    (30 * 86_400, "30 days"),
];
const GRACE_MAX_SECS: i64 = 365 * 86_400;
pub const UNTIL_REVOKED: &str = "until_revoked";

/// Reads the grace field of a rotation: `until_revoked`, a number of seconds (1 minute to
/// 365 days), or empty for the configured default. `None` means "until revoked".
pub fn parse_grace(raw: &str, default: Option<i64>) -> Result<Option<i64>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(default);
    }
    if raw == UNTIL_REVOKED {
        return Ok(None);
    }
    match raw.parse::<i64>() {
        Ok(secs) if (60..=GRACE_MAX_SECS).contains(&secs) => Ok(Some(secs)),
        _ => Err(AppError::validation(
            "grace",
            "Choose how long the old secret stays valid: until revoked, or from one minute to 365 days.",
        )),
    }
}

/// "2 hours", "7 days": a grace period for people.
pub fn fmt_duration(secs: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if secs % 86_400 == 0 {
        plural(secs / 86_400, "day")
    } else if secs % 3600 == 0 {
        plural(secs / 3600, "hour")
    } else if secs % 60 == 0 {
        plural(secs / 60, "minute")
    } else {
        plural(secs, "second")
    }
}

// ---- Downloads: the same files with and without JavaScript ----

/// A file name made of the client's name: lower-case letters, digits and dashes.
fn slug(s: &IssuedSecretOnce) -> String {
    let mut out = String::new();
    for ch in s.client_name.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        format!("client-{}", s.client_id.get(..8).unwrap_or(&s.client_id))
    } else {
        out.chars().take(50).collect()
    }
}

/// One downloadable form of a secret.
pub struct Download {
    pub label: &'static str,
    pub filename: String,
    pub mime: &'static str,
    pub content: String,
}

impl Download {
    pub fn data_url(&self) -> String {
        let mut url = format!("data:{};charset=utf-8,", self.mime);
        for b in self.content.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                url.push(b as char);
            } else {
                url.push_str(&format!("%{b:02X}"));
            }
        }
        url
    }
}

/// The `.env` file first, then JSON and a Kubernetes `Secret` manifest.
pub fn downloads(s: &IssuedSecretOnce) -> [Download; 3] {
    let name = slug(s);
    let json = serde_json::json!({ "client_id": s.client_id, "client_secret": s.secret });
    [
        Download {
            label: "Download",
            filename: format!("{name}.env"),
            mime: "text/plain",
            content: format!("CLIENT_ID={}\nCLIENT_SECRET={}\n", s.client_id, s.secret),
        },
        Download {
            label: "JSON",
            filename: format!("{name}.json"),
            mime: "application/json",
            content: format!("{json:#}\n"),
        },
        Download {
            label: "Kubernetes Secret",
            filename: format!("{name}-secret.yaml"),
            mime: "application/yaml",
            content: format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}-oauth-client\ntype: Opaque\nstringData:\n  CLIENT_ID: \"{}\"\n  CLIENT_SECRET: \"{}\"\n",
                s.client_id, s.secret
            ),
        },
    ]
}

pub const NOT_SHOWN_AGAIN: &str = "Copy or download it now: this secret will not be shown again. \
    Clavis keeps only a one-way hash of it, so nobody can read it later, not even an administrator.";

// ---- Server functions ----

/// Marks a response that carries a plaintext: no cache may keep it.
#[cfg(feature = "ssr")]
pub fn no_store() {
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.insert_header(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        res.insert_header(
            http::header::PRAGMA,
            http::HeaderValue::from_static("no-cache"),
        );
    }
}

#[server(endpoint = "secrets/overview")]
pub async fn secret_overview(client_id: String) -> Result<SecretsView, AppError> {
    use crate::ssr::{edge, secrets};
    edge::edge(async move {
        let (st, _, _) = edge::authorize(None).await?;
        secrets::overview(&st.db, secrets::Policy::from(&*st.settings), &client_id).await
    })
    .await
}

#[server(endpoint = "secrets/rotate")]
pub async fn rotate_secret(client_id: String, grace: String) -> Result<OneTimeSecrets, AppError> {
    use crate::ssr::{edge, secrets};
    no_store();
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(Some(crate::model::Role::Admin)).await?;
        let policy = secrets::Policy::from(&*st.settings);
        let grace = match parse_grace(&grace, policy.default_grace_secs)? {
            Some(secs) => secrets::Grace::For(secs),
            None => secrets::Grace::UntilRevoked,
        };
        let issued =
            secrets::rotate(&st.db, policy, &me.username, &meta, &client_id, grace).await?;
        Ok(OneTimeSecrets {
            one_time_secrets: vec![issued],
            done_href: format!("/clients/{client_id}"),
        })
    })
    .await
}

/// Revokes one rotated secret. Administrators and support staff may do this.
#[server(endpoint = "secrets/revoke")]
pub async fn revoke_secret(client_id: String, secret_id: i64) -> Result<(), AppError> {
    use crate::ssr::{edge, secrets};
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(None).await?;
        secrets::revoke(&st.db, &me.username, &meta, &client_id, secret_id).await?;
        edge::redirect_plain_form(&format!("/clients/{client_id}?done=revoked"));
        Ok(())
    })
    .await
}

/// Revokes every rotated secret of a client. Administrators and support staff may do this.
#[server(endpoint = "secrets/revoke_rotated")]
pub async fn revoke_all_rotated(client_id: String) -> Result<u32, AppError> {
    use crate::ssr::{edge, secrets};
    edge::edge(async move {
        let (st, me, meta) = edge::authorize(None).await?;
        let n = secrets::revoke_all_rotated(&st.db, &me.username, &meta, &client_id).await?;
        edge::redirect_plain_form(&format!("/clients/{client_id}?done=revoked-all"));
        Ok(n)
    })
    .await
}

// ---- The one-time secret dialog ----

/// Holds the plaintexts of the last creation or rotation until the person presses "Done".
/// Lives in the browser's memory only; a reload or another tab never sees it.
#[derive(Clone, Copy)]
pub struct OneTimeSlot(pub RwSignal<Option<OneTimeSecrets>>);

impl OneTimeSlot {
    pub fn provide() -> Self {
        let slot = OneTimeSlot(RwSignal::new(None));
        provide_context(slot);
        slot
    }

    /// Opens the dialog with `secrets` (if any), then goes to `done_href`.
    pub fn show_then_go(self, secrets: OneTimeSecrets) {
        let href = secrets.done_href.clone();
        if !secrets.one_time_secrets.is_empty() {
            self.0.set(Some(secrets));
        }
        leptos_router::hooks::use_navigate()(&href, Default::default());
    }
}

/// The modal "Client secret" dialog, shown over whatever page follows a creation or rotation.
#[component]
pub fn OneTimeSecretDialog() -> impl IntoView {
    let slot = expect_context::<OneTimeSlot>().0;
    move || {
        slot.get()
            .map(|s| view! { <OneTimeDialogBody secrets=s.one_time_secrets holder=slot/> })
    }
}

#[component]
fn OneTimeDialogBody(
    secrets: Vec<IssuedSecretOnce>,
    holder: RwSignal<Option<OneTimeSecrets>>,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(d) = dialog.get() {
            if !d.open() {
                let _ = d.show_modal();
            }
        }
    });
    // Dropping the value from the slot drops the last copy this page holds.
    let done = move || holder.set(None);
    let single = secrets.len() == 1;
    view! {
        <dialog node_ref=dialog class="one-time" aria-labelledby="one-time-title" on:close=move |_| done()>
            <h2 id="one-time-title">{if single { "Client secret" } else { "Client secrets" }}</h2>
            <p class="warning-text">{NOT_SHOWN_AGAIN}</p>
            {secrets
                .into_iter()
                .enumerate()
                .map(|(i, s)| view! { <SecretBlock s i single/> })
                .collect_view()}
            <div class="actions">
                <button type="button" class="primary" on:click=move |_| done()>"Done"</button>
            </div>
        </dialog>
    }
}

#[component]
fn SecretBlock(s: IssuedSecretOnce, i: usize, single: bool) -> impl IntoView {
    let field_id = format!("one-time-secret-{i}");
    let input = NodeRef::<leptos::html::Input>::new();
    let said = RwSignal::new(None::<&'static str>);
    let label = if single {
        "Client secret".to_string()
    } else {
        format!("Client secret of {}", s.client_name)
    };
    let (copy_name, download_name) = if single {
        ("Copy".to_string(), "Download".to_string())
    } else {
        (
            format!("Copy the secret of {}", s.client_name),
            format!("Download the .env of {}", s.client_name),
        )
    };
    let [env, json, k8s] = downloads(&s);
    let secret = s.secret.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let secret = secret.clone();
            leptos::task::spawn_local(async move {
                let clipboard = window().navigator().clipboard();
                let ok = wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&secret))
                    .await
                    .is_ok();
                if ok {
                    said.set(Some("Copied to the clipboard."));
                } else {
                    if let Some(el) = input.get_untracked() {
                        el.select();
                    }
                    said.set(Some(
                        "This browser blocked the clipboard. The secret is selected: press Ctrl+C (⌘C on a Mac) to copy it.",
                    ));
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&secret, input, said);
    };
    let save = move |d: &Download| {
        let (filename, url) = (d.filename.clone(), d.data_url());
        move |_| {
            #[cfg(feature = "hydrate")]
            save_file(&filename, &url);
            #[cfg(not(feature = "hydrate"))]
            let _ = (&filename, &url);
        }
    };
    view! {
        <div class="secret-block">
            {(!single).then(|| view! { <h3>{s.client_name.clone()}</h3> })}
            <p>"Client ID " <code class="client-id">{s.client_id.clone()}</code></p>
            <label for=field_id.clone()>{label}</label>
            <div class="secret-row">
                <input id=field_id node_ref=input class="secret-field" type="text" readonly
                    spellcheck="false" autocomplete="off" value=s.secret.clone()/>
                <button type="button" aria-label=copy_name on:click=copy>"Copy"</button>
            </div>
            <p class="copied" role="status">{move || said.get()}</p>
            <div class="downloads">
                <button type="button" aria-label=download_name on:click=save(&env)>"Download"</button>
                <span class="hint">" .env with CLIENT_ID and CLIENT_SECRET. Other formats: "</span>
                <button type="button" class="link" on:click=save(&json)>{json.label}</button>
                " "
                <button type="button" class="link" on:click=save(&k8s)>{k8s.label}</button>
            </div>
        </div>
    }
}

/// Saves `url` (a data: URL) under `filename` through a temporary link.
#[cfg(feature = "hydrate")]
fn save_file(filename: &str, url: &str) {
    use wasm_bindgen::JsCast;
    let doc = document();
    if let Ok(a) = doc.create_element("a") {
        let _ = a.set_attribute("href", url);
        let _ = a.set_attribute("download", filename);
        if let Some(a) = a.dyn_ref::<web_sys::HtmlElement>() {
            a.click();
        }
    }
}

// ---- The secrets panel of a client's page ----

/// The current secret, rotation (admins), and "Previously used secrets" with revocation
/// (admins and support). Confirmations are steps in the URL (`?confirm=rotate`,
/// `?confirm=revoke-all`), so they work without JavaScript too.
#[component]
pub fn SecretsPanel(
    #[prop(into)] client_id: Signal<String>,
    admin: Signal<bool>,
    /// Bumped after every change made here, so that the page's history can refresh.
    changes: RwSignal<u32>,
) -> impl IntoView {
    let slot = expect_context::<OneTimeSlot>();
    let query = use_query_map();
    let rotate = ServerAction::<RotateSecret>::new();
    let revoke = ServerAction::<RevokeSecret>::new();
    let revoke_all = ServerAction::<RevokeAllRotated>::new();
    let view_res = Resource::new(
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
    Effect::new(move |prev: Option<usize>| {
        let n = rotate.version().get() + revoke.version().get() + revoke_all.version().get();
        if prev.is_some_and(|p| p != n) {
            changes.update(|c| *c += 1);
        }
        n
    });
    Effect::new(move |_| {
        if let Some(Ok(out)) = rotate.value().get() {
            slot.show_then_go(out);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = revoke_all.value().get() {
            leptos_router::hooks::use_navigate()(
                &format!("/clients/{}", client_id.get_untracked()),
                Default::default(),
            );
        }
    });
    let confirm = move || query.read().get("confirm").unwrap_or_default();
    let rotate_err = Signal::derive(move || rotate.value().get().and_then(Result::err));
    let revoke_err = Signal::derive(move || revoke.value().get().and_then(Result::err));
    let revoke_all_err = Signal::derive(move || revoke_all.value().get().and_then(Result::err));
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
                        Err(e) => return view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    };
                    if !v.has_secret {
                        return view! {
                            <p>"Public clients have no secret: their code runs on people's devices, where any secret could be read. They prove themselves with PKCE instead."</p>
                        }.into_any();
                    }
                    let id = client_id.get_untracked();
                    let rotating = admin.get_untracked() && confirm() == "rotate";
                    let confirming_all = confirm() == "revoke-all";
                    view! {
                        <CurrentSecret v=v.clone()/>
                        {admin.get_untracked().then(|| if rotating {
                            view! { <RotateConfirm v=v.clone() id=id.clone() rotate err=rotate_err/> }.into_any()
                        } else {
                            let label = if v.current.is_some() { "Rotate secret" } else { "Create secret" };
                            view! {
                                <Form method="GET" action=format!("/clients/{id}") attr:class="inline">
                                    <input type="hidden" name="confirm" value="rotate"/>
                                    <button type="submit">{label}</button>
                                </Form>
                                <FormError err=rotate_err/>
                            }.into_any()
                        })}
                        <PreviousSecrets v id confirming_all revoke revoke_all/>
                    }.into_any()
                })}
            </Transition>
        </section>
    }
}

fn last_used(at: Option<i64>) -> String {
    at.map(fmt_time).unwrap_or_else(|| "never".into())
}

#[component]
fn CurrentSecret(v: SecretsView) -> impl IntoView {
    match v.current {
        Some(c) => view! {
            <dl class="secret-facts">
                <dt>"Current secret"</dt>
                <dd><code>{format!("…{}", c.hint)}</code></dd>
                <dt>"Created"</dt>
                <dd>{format!("{} by {}", fmt_time(c.created_at), c.created_by)}</dd>
                <dt>"Last used"</dt>
                <dd>{last_used(c.last_used_at)}</dd>
            </dl>
        }
        .into_any(),
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
        return view! {
            <div class="confirm-panel" role="dialog" aria-labelledby="rotate-title">
                <h3 id="rotate-title">"Create a secret?"</h3>
                <p>"A new secret is created and shown once."</p>
                <ActionForm action=rotate>
                    <input type="hidden" name="client_id" value=id.clone()/>
                    <input type="hidden" name="grace" value=""/>
                    <button type="submit" class="primary">"Create secret"</button>
                    " "
                    <a href=format!("/clients/{id}")>"Cancel"</a>
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
    view! {
        <div class="confirm-panel" role="dialog" aria-labelledby="rotate-title">
            <h3 id="rotate-title">"Rotate the secret?"</h3>
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
                <input type="hidden" name="client_id" value=id.clone()/>
                {(!keeps_none).then(|| view! {
                    <fieldset class="question">
                        <legend>"Keep the old secret valid"</legend>
                        <label>
                            <input type="radio" name="grace" value=UNTIL_REVOKED checked=default_grace.is_none()/>
                            " Until it is revoked"
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
                <a href=format!("/clients/{id}")>"Cancel"</a>
            </ActionForm>
            <crate::ui::FieldError err field="grace"/>
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
    revoke: ServerAction<RevokeSecret>,
    revoke_all: ServerAction<RevokeAllRotated>,
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
                                let id = id.clone();
                                view! {
                                    <tr>
                                        <th scope="row"><code>{format!("…{}", m.hint)}</code></th>
                                        <td>{state} " " {safe}</td>
                                        <td>{fmt_time(m.created_at)}</td>
                                        <td>{m.rotated_at.map(fmt_time).unwrap_or_else(|| "—".into())}</td>
                                        <td>{last_used(m.last_used_at)}</td>
                                        <td>{match (m.state, m.expires_at) {
                                            (SecretState::Rotated | SecretState::Expired, Some(at)) => fmt_time(at),
                                            (SecretState::Rotated, None) => "when revoked".into(),
                                            _ => "—".into(),
                                        }}</td>
                                        <td>
                                            {(m.state == SecretState::Rotated).then(|| view! {
                                                <ActionForm action=revoke>
                                                    <input type="hidden" name="client_id" value=id/>
                                                    <input type="hidden" name="secret_id" value=m.id.to_string()/>
                                                    <button type="submit" class="danger">"Revoke"</button>
                                                </ActionForm>
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
                view! {
                    <div class="confirm-panel" role="dialog" aria-labelledby="revoke-all-title">
                        <h3 id="revoke-all-title">{format!("Revoke {rotated} rotated secret{}?", if rotated == 1 { "" } else { "s" })}</h3>
                        <p>"Apps still using a rotated secret are refused from their next request. The current secret keeps working."</p>
                        <ActionForm action=revoke_all>
                            <input type="hidden" name="client_id" value=id.clone()/>
                            <button type="submit" class="danger">"Revoke all rotated"</button>
                            " "
                            <a href=format!("/clients/{id}")>"Cancel"</a>
                        </ActionForm>
                    </div>
                }.into_any()
            } else {
                view! {
                    <Form method="GET" action=format!("/clients/{id}") attr:class="inline">
                        <input type="hidden" name="confirm" value="revoke-all"/>
                        <button type="submit">"Revoke all rotated"</button>
                    </Form>
                }.into_any()
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rotated(id: i64, rotated_at: i64, last_used_at: Option<i64>) -> SecretMeta {
        SecretMeta {
            id,
            hint: format!("h{id}"),
            state: SecretState::Rotated,
            created_at: 0,
            created_by: "a".into(),
            rotated_at: Some(rotated_at),
            expires_at: None,
            revoked_at: None,
            revoked_by: None,
            revoked_reason: None,
            last_used_at,
            safe_to_revoke: false,
        }
    }

    #[test]
    fn rotation_keeps_the_newest_up_to_the_cap() {
        // Newest first: the secret just rotated, then older rotated ones.
        let list = [4, 3, 2, 1];
        assert_eq!(rotation_overflow(&list, 0), vec![4, 3, 2, 1]);
        assert_eq!(rotation_overflow(&list, 1), vec![3, 2, 1]);
        assert_eq!(rotation_overflow(&list, 3), vec![1]);
        assert_eq!(rotation_overflow(&list, 4), Vec::<i32>::new());
        assert_eq!(rotation_overflow(&list[..1], 1), Vec::<i32>::new());
        assert_eq!(rotation_overflow(&[] as &[i32], 3), Vec::<i32>::new());
    }

    #[test]
    fn safe_to_revoke_rules() {
        let day = DAY_MS;
        let now = 100 * day;
        assert!(is_safe_to_revoke(&rotated(1, now - day, None), now, 7));
        assert!(
            is_safe_to_revoke(&rotated(1, now - day, Some(now - 2 * day)), now, 7),
            "last use before rotation"
        );
        assert!(
            !is_safe_to_revoke(&rotated(1, now - 20 * day, Some(now - day)), now, 7),
            "used recently"
        );
        assert!(
            is_safe_to_revoke(&rotated(1, now - 20 * day, Some(now - 8 * day)), now, 7),
            "unused for 8 days"
        );
        let mut current = rotated(1, 0, None);
        current.state = SecretState::Current;
        assert!(!is_safe_to_revoke(&current, now, 7));
    }

    #[test]
    fn grace_parsing() {
        assert_eq!(parse_grace("", None), Ok(None));
        assert_eq!(parse_grace("", Some(3600)), Ok(Some(3600)));
        assert_eq!(parse_grace(UNTIL_REVOKED, Some(3600)), Ok(None));
        assert_eq!(parse_grace("86400", None), Ok(Some(86_400)));
        for bad in ["59", "-1", "forever", "1e9", &(366 * 86_400).to_string()] {
            let e = parse_grace(bad, None).unwrap_err();
            assert!(e.field_message("grace").is_some(), "{bad}");
        }
        assert_eq!(fmt_duration(7 * 86_400), "7 days");
        assert_eq!(fmt_duration(3600), "1 hour");
        assert_eq!(fmt_duration(90), "90 seconds");
    }

    #[test]
    fn downloads_hold_the_id_and_the_secret() {
        let s = IssuedSecretOnce {
            client_id: "0123456789abcdef0123456789abcdef".into(),
            client_name: "Billing API (prod)".into(),
            secret: "clavis_cs_abc-def_ghi".into(),
            hint: "_ghi".into(),
        };
        let [env, json, k8s] = downloads(&s);
        assert_eq!(env.filename, "billing-api-prod.env");
        assert_eq!(
            env.content,
            "CLIENT_ID=0123456789abcdef0123456789abcdef\nCLIENT_SECRET=clavis_cs_abc-def_ghi\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(&json.content).unwrap();
        assert_eq!(parsed["client_secret"], "clavis_cs_abc-def_ghi");
        assert!(k8s.content.contains("kind: Secret"));
        assert!(k8s
            .content
            .contains("CLIENT_SECRET: \"clavis_cs_abc-def_ghi\""));
        assert!(k8s.content.contains("name: billing-api-prod-oauth-client"));
        let url = env.data_url();
        assert!(
            url.starts_with("data:text/plain;charset=utf-8,CLIENT_ID%3D0123"),
            "{url}"
        );
        assert!(!url.contains('\n'));
        // A name with nothing usable falls back to the client id.
        let odd = IssuedSecretOnce {
            client_name: "Ünïcode ✓".into(),
            ..s.clone()
        };
        assert_eq!(downloads(&odd)[0].filename, "n-code.env");
        let none = IssuedSecretOnce {
            client_name: "✓✓".into(),
            ..s
        };
        assert_eq!(downloads(&none)[0].filename, "client-01234567.env");
    }

    #[test]
    fn debug_hides_the_plaintext() {
        let s = IssuedSecretOnce {
            client_id: "c".into(),
            client_name: "n".into(),
            secret: "clavis_cs_topsecret".into(),
            hint: "cret".into(),
        };
        assert!(!format!("{s:?}").contains("topsecret"));
    }
}
