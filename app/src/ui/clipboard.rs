//! Copying text to the clipboard, and the small "Copy" button that does it. Without JavaScript
//! nothing happens, and the text next to the button can be selected by hand.

use leptos::prelude::*;

/// Writes `text` to the clipboard with the Clipboard API. False when the browser refused (no
/// permission, not a secure context) or when not running in a browser.
pub async fn write_text(text: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        let clipboard = window().navigator().clipboard();
        wasm_bindgen_futures::JsFuture::from(clipboard.write_text(text))
            .await
            .is_ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
    }
}

/// Copies `text` and says whether it worked.
#[component]
pub fn CopyButton(text: String, label: &'static str) -> impl IntoView {
    let done = RwSignal::new(None::<&'static str>);
    let copy = move |_| {
        let text = text.clone();
        leptos::task::spawn_local(async move {
            done.set(Some(if write_text(&text).await {
                "Copied."
            } else {
                "Copy failed: select the text and copy it by hand."
            }));
        });
    };
    view! {
        <button type="button" aria-label=label on:click=copy>"Copy"</button>
        <span class="copied" role="status">{move || done.get()}</span>
    }
}
