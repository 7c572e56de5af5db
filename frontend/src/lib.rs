//! The browser entry point: hydrates the server-rendered page into the Clavis app.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Reached only when hydration finished without a panic: lets tests (and people debugging)
    // see that the WebAssembly app has taken over the page.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
