//! The one-time secret dialog: after a creation or a rotation, the new plaintexts are shown
//! once, over whatever page follows, with "Copy", the downloads and "Done". `SecretBlock` is
//! the markup the no-JavaScript page (`secrets::one_time_page`) shares with it.

use leptos::prelude::*;

use crate::secrets::downloads::{downloads, Download, NOT_SHOWN_AGAIN};
use crate::secrets::files::ConfigFile;
use crate::secrets::{IssuedSecretOnce, OneTimeSecrets};
#[cfg(feature = "hydrate")]
use crate::ui::clipboard::write_text;

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

    /// For an effect on an action's value: moves a successful answer out of the action into
    /// the slot, opens the dialog and goes on. The slot then holds the only copy of the
    /// plaintexts, and "Done" drops it.
    pub fn take_then_go<S, T, E>(self, value: S, into: impl FnOnce(T) -> OneTimeSecrets)
    where
        S: With<Value = Option<Result<T, E>>> + Update<Value = Option<Result<T, E>>>,
    {
        if let Some(answer) = take_ok(value) {
            self.show_then_go(into(answer));
        }
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

/// Takes a successful answer out of an action's value, leaving `None`; an error stays, for
/// the form to show. Tracks `value`.
pub fn take_ok<S, T, E>(value: S) -> Option<T>
where
    S: With<Value = Option<Result<T, E>>> + Update<Value = Option<Result<T, E>>>,
{
    if !value.with(|v| matches!(v, Some(Ok(_)))) {
        return None;
    }
    match value.try_update(Option::take).flatten() {
        Some(Ok(answer)) => Some(answer),
        _ => None,
    }
}

/// The modal "Client secret" dialog, shown over whatever page follows a creation or rotation.
#[component]
pub fn OneTimeSecretDialog() -> impl IntoView {
    let slot = expect_context::<OneTimeSlot>().0;
    move || {
        slot.get().map(
            |s| view! { <OneTimeDialogBody secrets=s.one_time_secrets files=s.files holder=slot/> },
        )
    }
}

#[component]
fn OneTimeDialogBody(
    secrets: Vec<IssuedSecretOnce>,
    files: Vec<ConfigFile>,
    holder: RwSignal<Option<OneTimeSecrets>>,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    // What had the focus when the dialog opened (the button that rotated, say), to give it
    // back after "Done".
    #[cfg(feature = "hydrate")]
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    // Opened on the next frame: by then the page has moved the focus where it belongs after
    // the action (a confirmation step closing gives it back to its trigger), and that is the
    // element to remember.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(d) = dialog.get() {
            request_animation_frame(move || {
                if !d.open() {
                    opener.set_value(crate::ui::focused_element());
                    let _ = d.show_modal();
                    crate::ui::focus_first(&d, "button");
                }
            });
        }
    });
    // Dropping the value from the slot drops the last copy this page holds.
    let done = move || {
        holder.set(None);
        #[cfg(feature = "hydrate")]
        crate::ui::give_focus_back(opener.get_value());
    };
    // Escape asks first: closing drops a secret that cannot be shown again.
    let asking = RwSignal::new(false);
    let keep_button = NodeRef::<leptos::html::Button>::new();
    // The focus starts on the first "Copy" (not on "Done", which drops the secret), and comes
    // back there when the question is answered "Keep it open".
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if asking.get() {
            if let Some(b) = keep_button.get() {
                let _ = b.focus();
            }
        } else if let Some(d) = dialog.get() {
            crate::ui::focus_first(&d, "button");
        }
    });
    let on_cancel = move |ev: leptos::ev::Event| {
        ev.prevent_default();
        asking.set(true);
    };
    // A browser may close the dialog on a repeated Escape whatever the page says: open it
    // again, still asking.
    let on_close = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(d) = dialog.get_untracked() {
            let _ = d.show_modal();
        }
        asking.set(true);
    };
    let single = secrets.len() == 1;
    view! {
        <dialog node_ref=dialog class="one-time" aria-labelledby="one-time-title" on:cancel=on_cancel on:close=on_close>
            <h2 id="one-time-title">{if single { "Client secret" } else { "Client secrets" }}</h2>
            <p class="warning-text">{NOT_SHOWN_AGAIN}</p>
            {secrets
                .into_iter()
                .enumerate()
                .map(|(i, s)| view! { <DialogSecret s i single/> })
                .collect_view()}
            <ConfigFileLinks files title="Configuration with this secret"/>
            <div class="actions" class:hidden=move || asking.get()>
                <button type="button" class="primary" on:click=move |_| done()>"Done"</button>
            </div>
            <div class="confirm-panel" role="group" aria-labelledby="close-title" class:hidden=move || !asking.get()>
                <p id="close-title"><strong>{if single { "Close without saving the secret?" } else { "Close without saving the secrets?" }}</strong></p>
                <p>"Clavis cannot show it again. If nobody copied or downloaded it, you would have to rotate."</p>
                <button type="button" class="primary" node_ref=keep_button on:click=move |_| asking.set(false)>"Keep it open"</button>
                " "
                <button type="button" class="danger" on:click=move |_| done()>"Close without saving"</button>
            </div>
        </dialog>
    }
}

/// Whole configuration files (an authorizer's) as download links named after the files.
#[component]
pub fn ConfigFileLinks(files: Vec<ConfigFile>, title: &'static str) -> impl IntoView {
    (!files.is_empty()).then(|| {
        view! {
            <section class="config-files" aria-label=title>
                <h3>{title}</h3>
                <p class="downloads">
                    {files.into_iter().map(|f| view! {
                        <a class="button-link" href=f.data_url() download=f.filename.clone()>{f.label.clone()}</a>
                        " "
                    }).collect_view()}
                </p>
            </section>
        }
    })
}

/// The part of one new secret that the dialog and the no-JavaScript page share: whose secret
/// it is, and the labelled read-only field that holds it, with `beside` (in a row with the
/// field) next to it and `children` after it.
#[component]
pub fn SecretBlock(
    s: IssuedSecretOnce,
    i: usize,
    single: bool,
    /// The dialog's client names are `h3` (under its `h2`); the page's are `h2`.
    #[prop(optional)]
    in_dialog: bool,
    field: NodeRef<leptos::html::Input>,
    #[prop(optional)] beside: Option<AnyView>,
    children: Children,
) -> impl IntoView {
    let field_id = format!("one-time-secret-{i}");
    let label = if single {
        "Client secret".to_string()
    } else {
        format!("Client secret of {}", s.client_name)
    };
    let heading = (!single).then(|| {
        let name = s.client_name.clone();
        if in_dialog {
            view! { <h3>{name}</h3> }.into_any()
        } else {
            view! { <h2>{name}</h2> }.into_any()
        }
    });
    let input = view! {
        <input id=field_id.clone() node_ref=field class="secret-field" type="text" readonly
            spellcheck="false" autocomplete="off" value=s.secret.clone()/>
    };
    let field_row = match beside {
        Some(beside) => view! { <div class="secret-row">{input}{beside}</div> }.into_any(),
        None => input.into_any(),
    };
    view! {
        <div class="secret-block">
            {heading}
            <p>"Client ID " <code class="client-id">{s.client_id.clone()}</code></p>
            {s.expires_at.map(|at| view! {
                <p class="expires">"This secret expires " <strong>{crate::ui::fmt_time(at)}</strong>
                    ". After that the token endpoint refuses it: rotate before then."</p>
            })}
            <label for=field_id>{label}</label>
            {field_row}
            {children()}
        </div>
    }
}

/// One secret in the dialog: the shared block with "Copy" (selecting the text when the
/// clipboard is refused) and the downloads as buttons.
#[component]
fn DialogSecret(s: IssuedSecretOnce, i: usize, single: bool) -> impl IntoView {
    let field = NodeRef::<leptos::html::Input>::new();
    let said = RwSignal::new(None::<&'static str>);
    let [env, json, k8s] = downloads(&s);
    // In a dialog with several secrets, every button names its client.
    let named = |what: &str| -> Option<String> {
        (!single).then(|| format!("{what} of {}", s.client_name))
    };
    let copy_name = named("Copy the secret").unwrap_or_else(|| "Copy".into());
    let download_name = named("Download the .env").unwrap_or_else(|| "Download".into());
    let (json_name, k8s_name) = (
        named(&format!("Download the {}", json.label)),
        named(&format!("Download the {}", k8s.label)),
    );
    let secret = s.secret.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let secret = secret.clone();
            leptos::task::spawn_local(async move {
                if write_text(&secret).await {
                    said.set(Some("Copied to the clipboard."));
                } else {
                    if let Some(el) = field.get_untracked() {
                        el.select();
                    }
                    said.set(Some(
                        "This browser blocked the clipboard. The secret is selected: press Ctrl+C (⌘C on a Mac) to copy it.",
                    ));
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&secret, field, said);
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
    let beside = view! { <button type="button" aria-label=copy_name on:click=copy>"Copy"</button> };
    view! {
        <SecretBlock s i single in_dialog=true field beside=beside.into_any()>
            <p class="copied" role="status">{move || said.get()}</p>
            <div class="downloads">
                <button type="button" aria-label=download_name on:click=save(&env)>"Download"</button>
                <span class="hint">" .env with CLIENT_ID and CLIENT_SECRET. Other formats: "</span>
                <button type="button" class="link" aria-label=json_name on:click=save(&json)>{json.label}</button>
                " "
                <button type="button" class="link" aria-label=k8s_name on:click=save(&k8s)>{k8s.label}</button>
            </div>
        </SecretBlock>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_answer_leaves_no_copy_in_the_action_and_done_drops_the_slot() {
        let owner = Owner::new();
        owner.with(|| {
            let value = RwSignal::new(Some(Ok::<_, String>("clavis_cs_x".to_string())));
            assert_eq!(take_ok(value).as_deref(), Some("clavis_cs_x"));
            assert!(
                value.get_untracked().is_none(),
                "the action holds no plaintext"
            );
            assert_eq!(take_ok(value), None);
            // An error stays for the form to show.
            let failed = RwSignal::new(Some(Err::<String, _>("bad".to_string())));
            assert_eq!(take_ok(failed), None);
            assert_eq!(failed.get_untracked(), Some(Err("bad".to_string())));
        });
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
