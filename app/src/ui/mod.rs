//! Small building blocks shared by every page: field and form errors, the alert for a read
//! that failed, status pages, the time format, `Confirm`, copying to the clipboard
//! (`clipboard`), and the single-use token of forms that change something (`form_token`).
//! Nothing here knows a domain.

pub mod clipboard;
pub mod form_token;

use leptos::prelude::*;

use crate::error::AppError;

/// Formats unix milliseconds as `2026-11-23 14:05:09 UTC` for display.
pub fn fmt_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "—".to_string())
}

/// The message for one field, placed right under it. Its id is `{field}-error`, which the input
/// names in `aria-describedby`.
#[component]
pub fn FieldError(
    #[prop(into)] err: Signal<Option<AppError>>,
    #[prop(into)] field: String,
    /// DOM id, when `{field}-error` would not be unique on the page.
    #[prop(optional, into)]
    id: Option<String>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| format!("{field}-error"));
    view! {
        <p class="field-error" id=id aria-live="polite">
            {move || err.get().and_then(|e| e.field_message(&field))}
        </p>
    }
}

/// An error that is not about one field (wrong password, throttling, conflicts, server faults).
#[component]
pub fn FormError(#[prop(into)] err: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        err.get()
            .filter(|e| !matches!(e, AppError::Validation { field, .. } if field != "form"))
            .map(|e| view! { <LoadError err=e/> })
    }
}

/// Gives the server-rendered page the status of `err` (404 for something not found, 403 for a
/// role that may not see it, …), so that a page that failed says so to clients and crawlers
/// too. Does nothing in the browser.
pub fn set_page_status(err: &AppError) {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(
            http::StatusCode::from_u16(err.status())
                .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
    #[cfg(not(feature = "ssr"))]
    let _ = err;
}

/// A confirmation step that works without JavaScript: a disclosure whose summary names the
/// action (`label` is its accessible name, unique on the page), whose `text` says what will
/// happen, and whose children are the form that does it. With JavaScript, opening it moves the
/// focus to that text (so it is read, and a repeated Enter confirms nothing), and Escape closes
/// it and gives the focus back to the summary.
#[component]
pub fn Confirm(
    /// The summary's text, such as "Revoke…".
    #[prop(into)]
    summary: String,
    /// The summary's accessible name, such as "Revoke: secret …EjKA". It holds the visible
    /// text, so that speech input finds it.
    #[prop(into)]
    label: String,
    /// What will happen.
    #[prop(into)]
    text: String,
    children: Children,
) -> impl IntoView {
    let details = NodeRef::<leptos::html::Details>::new();
    let on_toggle = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(d) = details.get_untracked() {
            if d.open() {
                focus_first(&d, "p.confirm-text");
            }
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        #[cfg(feature = "hydrate")]
        if ev.key() == "Escape" {
            if let Some(d) = details.get_untracked() {
                if d.open() {
                    ev.prevent_default();
                    d.set_open(false);
                    focus_first(&d, "summary");
                }
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <details class="confirm" node_ref=details on:toggle=on_toggle on:keydown=on_keydown>
            <summary aria-label=label>{summary}</summary>
            <p class="confirm-text" tabindex="-1">{text}</p>
            {children()}
        </details>
    }
}

/// The value of the radio button named `name` that is checked in the page as the server
/// rendered it, read while the page hydrates: a choice the person made before the WebAssembly
/// arrived. Hydration sets every `prop:checked` from its signal, which clears such a choice, so
/// a component reads it first (in its body, before its view hydrates) and sets its signal from
/// it in an `Effect` (after hydration: during it the signals must match the server's HTML).
/// `None` on the server, once the page has hydrated (the body's `data-hydrated`, set by the
/// frontend), or when nothing is checked.
pub fn checked_before_hydration(name: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let doc = web_sys::window()?.document()?;
        if doc.body()?.get_attribute("data-hydrated").is_some() {
            return None;
        }
        let selector = format!("input[type=\"radio\"][name=\"{name}\"]:checked");
        doc.query_selector(&selector)
            .ok()
            .flatten()?
            .dyn_into::<web_sys::HtmlInputElement>()
            .ok()
            .map(|input| input.value())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = name;
        None
    }
}

/// Moves the focus to the first element under `root` that matches `selector`.
#[cfg(feature = "hydrate")]
pub fn focus_first(root: &web_sys::Element, selector: &str) {
    use wasm_bindgen::JsCast;
    if let Some(el) = root
        .query_selector(selector)
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// The element that has the focus now, unless that is the page itself.
#[cfg(feature = "hydrate")]
pub fn focused_element() -> Option<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast;
    let doc = web_sys::window()?.document()?;
    let el = doc
        .active_element()?
        .dyn_into::<web_sys::HtmlElement>()
        .ok()?;
    let body: Option<web_sys::Element> = doc.body().map(Into::into);
    (Some(el.clone().into()) != body).then_some(el)
}

/// After a dialog is gone: the focus goes back to `opener` if it is still on the page and
/// shown; else to the page's `data-return-focus` element (the trigger of what opened the
/// dialog, when the page was re-rendered meanwhile); else to the page's heading, so that it is
/// never left on nothing. Runs on the next frame, once the dialog (modal, so the rest of the
/// page is inert) is removed.
#[cfg(feature = "hydrate")]
pub fn give_focus_back(opener: Option<web_sys::HtmlElement>) {
    request_animation_frame(move || {
        if let Some(el) = opener.filter(|e| e.is_connected() && e.offset_parent().is_some()) {
            let _ = el.focus();
            return;
        }
        use wasm_bindgen::JsCast;
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let find = |selector: &str| {
            doc.query_selector(selector)
                .ok()
                .flatten()
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                .filter(|e| e.offset_parent().is_some())
        };
        if let Some(trigger) = find("[data-return-focus]") {
            let _ = trigger.focus();
        } else if let Some(h) = find("main h1") {
            let _ = h.set_attribute("tabindex", "-1");
            let _ = h.focus();
        }
    });
}

/// With JavaScript: moves the focus into a confirmation panel once it is shown, to its
/// heading (which needs `tabindex="-1"`), so that a keyboard user hears the question and
/// then tabs on to the choices.
pub fn focus_on_show(panel: NodeRef<leptos::html::Div>) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(p) = panel.get() {
            focus_first(&p, "h3");
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = panel;
}

/// Gives the focus back to the button that opened a confirmation step in the URL (such as
/// `?confirm=rotate`) when that step closes and the button is shown again.
#[derive(Clone, Copy)]
pub struct ReturnFocus {
    pub trigger: NodeRef<leptos::html::Button>,
}

impl ReturnFocus {
    /// `open`: whether the step is open now (reactive).
    pub fn new(open: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        let trigger = NodeRef::<leptos::html::Button>::new();
        #[cfg(feature = "hydrate")]
        {
            let armed = StoredValue::new(false);
            Effect::new(move |was_open: Option<bool>| {
                let now = open();
                if was_open == Some(true) && !now {
                    armed.set_value(true);
                }
                now
            });
            Effect::new(move |_| {
                if let Some(b) = trigger.get() {
                    if armed.get_value() {
                        armed.set_value(false);
                        let _ = b.focus();
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = open;
        ReturnFocus { trigger }
    }
}

/// An error announced as an alert: what a page shows where a read failed.
#[component]
pub fn LoadError(err: AppError) -> impl IntoView {
    view! { <p class="form-error" role="alert">{err.to_string()}</p> }
}

#[component]
pub fn Forbidden() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <section class="card">
            <h1>"Not available to your role"</h1>
            <p>"This page is for administrators. Ask an administrator if you need a change made."</p>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <a href="/clients">"Go to the client list"</a> "."</p>
        </section>
    }
}

/// What the error boundary shows when a page fails to render. Every error that reaches it is an
/// `AppError` (safe to show) or a transport failure; internal details never get this far.
#[component]
pub fn ErrorPanel(errors: ArcRwSignal<leptos::error::Errors>) -> impl IntoView {
    view! {
        <section class="card" role="alert">
            <h1>"Something went wrong"</h1>
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
            <p><a href="/clients">"Back to the client list"</a></p>
        </section>
    }
}
