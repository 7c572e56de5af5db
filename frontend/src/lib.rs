//! The browser entry point: hydrates the server-rendered page into the Clavis app.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Asynchronous, because a page of the release build may first have to load its own
    // WebAssembly chunk (see `lazy_page!` in app/src/lib.rs); the debug build takes the same
    // path, with the page already at hand.
    // (`hydrate_from_async` starts Leptos's executor; until then, wasm-bindgen's runs it.)
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document().body();
        let Some(body) = body else { return };
        let mounted = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
        mounted.forget();
        // Reached only when hydration finished without a panic: lets tests (and people
        // debugging) see that the WebAssembly app has taken over the page.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
