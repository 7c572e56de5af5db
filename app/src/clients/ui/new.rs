//! `/clients/new`: the guided choice of a client type (two questions, working without
//! JavaScript too), the creation form, and the review of an architecture preset.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::clients::api::{list_applications, CreateClient, CreatePreset};
use crate::clients::kind::{self, ClientType};
use crate::clients::ui::application::{ApplicationPicker, Applications};
use crate::clients::ui::lifetime::SecretLifetimeField;
use crate::clients::ui::sign_in::SignInFields;
use crate::clients::{presets, NAME_MAX};
use crate::secrets::ui::one_time::OneTimeSlot;
use crate::secrets::OneTimeSecrets;
use crate::signin::ui::Guarded;
use crate::ui::form_token::FormToken;
use crate::ui::{checked_before_hydration, FieldError, FormError};

#[component]
pub fn NewClientPage() -> impl IntoView {
    let query = use_query_map();
    // Following a preset link changes only the query, so the choice must be reactive.
    let preset = move || query.read().get("preset").and_then(|k| presets::find(&k));
    // The actions are made here, before `Guarded`: see `list::ClientsPage`.
    let create = ServerAction::<CreateClient>::new();
    let create_preset = ServerAction::<CreatePreset>::new();
    let apps: Applications = Resource::new(|| (), |_| list_applications());
    view! {
        <Guarded admin=true>
            {move || match preset() {
                Some(preset) => view! { <PresetReview preset create=create_preset/> }.into_any(),
                None => view! { <NewClient create apps/> }.into_any(),
            }}
        </Guarded>
    }
}

fn yes_no(v: Option<String>) -> Option<bool> {
    match v.as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    }
}

#[component]
fn NewClient(create: ServerAction<CreateClient>, apps: Applications) -> impl IntoView {
    let query = use_query_map();
    // The two questions: from the URL on the server (no JavaScript), live in the browser.
    let person = RwSignal::new(yes_no(query.read_untracked().get("person")));
    let secret = RwSignal::new(yes_no(query.read_untracked().get("secret")));
    let recommendation = move || match (person.get(), secret.get()) {
        (Some(p), Some(s)) => Some(kind::recommend(p, s)),
        _ => None,
    };
    let chosen = RwSignal::new(None::<ClientType>);
    // What the person chose before the page hydrated, read now, while the page is still as the
    // server rendered it, and put into the signals once it has hydrated: they must match the
    // server's HTML during hydration, which also sets every `prop:checked` from them.
    let mut early = Some((
        checked_before_hydration("person"),
        checked_before_hydration("secret"),
        checked_before_hydration("input[client_type]"),
    ));
    Effect::new(move |_| {
        let Some((p, s, t)) = early.take() else {
            return;
        };
        if p.is_some() {
            person.set(yes_no(p));
        }
        if s.is_some() {
            secret.set(yes_no(s));
        }
        if let Some(t) = t.and_then(|t| ClientType::parse(&t)) {
            chosen.set(Some(t));
        }
    });
    let selected = move || chosen.get().or_else(|| recommendation().map(|(t, _)| t));
    let signs_in = move || {
        matches!(
            selected(),
            Some(ClientType::ConfidentialPkce | ClientType::PublicPkce)
        )
    };
    let machine = move || selected() == Some(ClientType::ClientCredentials);
    let has_secret = move || selected().is_some_and(ClientType::has_secret);
    // True once the page runs in the browser: effects never run on the server.
    let js = RwSignal::new(false);
    Effect::new(move |_| js.set(true));

    let err = Signal::derive(move || create.value().get().and_then(Result::err));
    let slot = expect_context::<OneTimeSlot>();
    Effect::new(move |_| slot.take_then_go(create.value(), |done| done.one_time()));

    let question =
        move |name: &'static str, legend: &'static str, signal: RwSignal<Option<bool>>| {
            view! {
                <fieldset class="question">
                    <legend>{legend}</legend>
                    <label>
                        <input type="radio" name=name value="yes"
                            checked=move || signal.get() == Some(true)
                            prop:checked=move || signal.get() == Some(true)
                            on:change=move |_| { signal.set(Some(true)); chosen.set(None); }/>
                        " Yes"
                    </label>
                    <label>
                        <input type="radio" name=name value="no"
                            checked=move || signal.get() == Some(false)
                            prop:checked=move || signal.get() == Some(false)
                            on:change=move |_| { signal.set(Some(false)); chosen.set(None); }/>
                        " No"
                    </label>
                </fieldset>
            }
        };

    view! {
        <h1>"New client"</h1>
        <section class="card" aria-labelledby="presets-title">
            <h2 id="presets-title">"Start from an architecture"</h2>
            <ul class="presets">
                {presets::all()
                    .into_iter()
                    .map(|p| view! {
                        <li><a href=format!("/clients/new?preset={}", p.key)>{p.title}</a> " — " {p.summary}</li>
                    })
                    .collect_view()}
            </ul>
        </section>
        <section class="card" aria-labelledby="guide-title">
            <h2 id="guide-title">"Which type fits?"</h2>
            <p class="lede">"Register each part of your software as its own client. Two questions decide its type."</p>
            <form method="GET" action="/clients/new" class="guide">
                {question("person", "Does a person sign in through this part of your software?", person)}
                {question("secret", "Can the machine that runs it keep a secret (a server you control, not a browser or a user's device)?", secret)}
                <noscript><button type="submit">"Recommend a type"</button></noscript>
            </form>
            <p class="recommendation" role="status">
                {move || recommendation().map(|(t, why)| view! { <strong>{format!("Recommended: {}. ", t.label())}</strong> {why} })}
            </p>
        </section>
        <ActionForm action=create attr:class="card client-form">
            <FormToken/>
            <fieldset class="types">
                <legend>"Client type"</legend>
                {ClientType::ALL
                    .into_iter()
                    .map(|t| {
                        let id = format!("type-{}", t.as_str());
                        view! {
                            <div class="type-option">
                                <input type="radio" id=id.clone() name="input[client_type]" value=t.as_str()
                                    checked=move || selected() == Some(t)
                                    prop:checked=move || selected() == Some(t)
                                    on:change=move |_| chosen.set(Some(t))/>
                                <label for=id>{t.label()}</label>
                                <small>{t.implication()}</small>
                                {move || {
                                    let rec = recommendation().map(|(r, _)| r);
                                    (selected() == Some(t) && rec.is_some() && rec != Some(t)).then(|| view! {
                                        <small class="warning">"This is not the recommended type for your answers above."</small>
                                    })
                                }}
                            </div>
                        }
                    })
                    .collect_view()}
                <FieldError err=err field="client_type"/>
            </fieldset>
            <div class="field">
                <label for="c-name">"Name"</label>
                <input id="c-name" name="input[name]" required maxlength=NAME_MAX aria-describedby="name-error"/>
                <FieldError err=err field="name"/>
            </div>
            <div class="field">
                <label for="c-description">"Description"</label>
                <textarea id="c-description" name="input[description]" rows=2 aria-describedby="description-error"></textarea>
                <FieldError err=err field="description"/>
            </div>
            // The fields of each kind of type under its own heading. Without JavaScript (and
            // until the page hydrates) both groups show; then only the chosen type's, and the
            // other's are disabled too, so that what they held is not sent.
            <p class="hint" role="note" class:hidden=move || !js.get() || selected().is_some()>
                "Choose a client type above: the fields it needs appear here."
            </p>
            <fieldset class="type-fields" class:hidden=move || js.get() && !signs_in()>
                <legend>"For apps that people sign in to (confidential PKCE and public PKCE)"</legend>
                <p class="hint">"These types need at least one redirect URI. Post-logout redirect URIs and first-party are optional."</p>
                <div class="field">
                    <label for="c-redirects">"Redirect URIs"</label>
                    <textarea id="c-redirects" name="input[redirect_uris]" rows=3
                        disabled=move || js.get() && !signs_in()
                        placeholder="https://app.example.com/callback"
                        aria-describedby="redirect_uris-hint redirect_uris-error"></textarea>
                    <small id="redirect_uris-hint">
                        "One per line, up to 20. https, or http on 127.0.0.1, [::1] or localhost; native apps may use a scheme like com.example.app:/callback."
                    </small>
                    <FieldError err=err field="redirect_uris"/>
                </div>
                <SignInFields prefix="c" err disabled=Signal::derive(move || js.get() && !signs_in())/>
            </fieldset>
            <fieldset class="type-fields" class:hidden=move || js.get() && !machine()>
                <legend>"For machines (client credentials)"</legend>
                <p class="hint">"This type needs the scopes it may request. The token audience is optional."</p>
                <div class="field">
                    <label for="c-scopes">"Scopes"</label>
                    <input id="c-scopes" name="input[scopes]" placeholder="orders:read orders:write"
                        disabled=move || js.get() && !machine()
                        aria-describedby="scopes-hint scopes-error"/>
                    <small id="scopes-hint">"The scopes it may request, separated by spaces."</small>
                    <FieldError err=err field="scopes"/>
                </div>
                <div class="field">
                    <label for="c-audience">"Token audience"</label>
                    <input id="c-audience" name="input[audience]" placeholder="https://api.example.com"
                        disabled=move || js.get() && !machine()
                        aria-describedby="audience-hint audience-error"/>
                    <small id="audience-hint">"Optional: the API its access tokens are for (the aud claim). Empty means the server's default."</small>
                    <FieldError err=err field="audience"/>
                </div>
            </fieldset>
            // Public clients have no secret; without JavaScript the server says so if it is filled.
            <div class:hidden=move || js.get() && !has_secret()>
                <SecretLifetimeField prefix="c" value=None err disabled=Signal::derive(move || js.get() && !has_secret())/>
            </div>
            <ApplicationPicker apps current=None err prefix="c"/>
            <FormError err=err/>
            <button type="submit" class="primary" disabled=move || create.pending().get()>"Create client"</button>
        </ActionForm>
    }
}

#[component]
fn PresetReview(preset: presets::Preset, create: ServerAction<CreatePreset>) -> impl IntoView {
    let err = Signal::derive(move || create.value().get().and_then(Result::err));
    let slot = expect_context::<OneTimeSlot>();
    Effect::new(move |_| {
        slot.take_then_go(create.value(), |done| OneTimeSecrets {
            one_time_secrets: done.one_time_secrets,
            done_href: done.done_href,
            files: Vec::new(),
        })
    });
    view! {
        <h1>{format!("New application: {}", preset.title)}</h1>
        <p class="lede">{preset.summary} " Review the proposed clients; everything is created together, or nothing is."</p>
        <ActionForm action=create attr:class="card client-form">
            <FormToken/>
            <div class="field">
                <label for="p-app">"Application name"</label>
                <input id="p-app" name="application_name" required maxlength=NAME_MAX aria-describedby="application_name-error"/>
                <FieldError err=err field="application_name"/>
            </div>
            {preset
                .clients
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let f = move |k: &str| format!("clients[{i}][{k}]");
                    let key = move |k: &str| format!("clients.{i}.{k}");
                    view! {
                        <fieldset class="proposed">
                            <legend>{c.artifact}</legend>
                            <p><strong>{c.client_type.label()}</strong> ". " {c.why}</p>
                            <input type="hidden" name=f("client_type") value=c.client_type.as_str()/>
                            <div class="field">
                                <label for=format!("p-{i}-name")>{format!("Name of the {}", c.artifact.to_lowercase())}</label>
                                <input id=format!("p-{i}-name") name=f("name") required maxlength=NAME_MAX value=c.name/>
                                <FieldError err=err field=key("name") id=format!("p-{i}-name-error")/>
                            </div>
                            {c.client_type.uses_redirect_uris().then(|| view! {
                                <div class="field">
                                    <label for=format!("p-{i}-redirects")>{format!("Redirect URIs of the {}", c.artifact.to_lowercase())}</label>
                                    <textarea id=format!("p-{i}-redirects") name=f("redirect_uris") rows=2>{c.redirect_uris}</textarea>
                                    <FieldError err=err field=key("redirect_uris") id=format!("p-{i}-redirects-error")/>
                                </div>
                            })}
                            {(c.client_type == ClientType::ClientCredentials).then(|| view! {
                                <div class="field">
                                    <label for=format!("p-{i}-scopes")>{format!("Scopes of the {}", c.artifact.to_lowercase())}</label>
                                    <input id=format!("p-{i}-scopes") name=f("scopes") value=c.scopes/>
                                    <FieldError err=err field=key("scopes") id=format!("p-{i}-scopes-error")/>
                                </div>
                            })}
                        </fieldset>
                    }
                })
                .collect_view()}
            <FormError err=err/>
            <button type="submit" class="primary" disabled=move || create.pending().get()>"Create application and clients"</button>
            " "
            <a href="/clients/new">"Cancel"</a>
        </ActionForm>
    }
}
