//! `/people`: the directory of people who sign in to apps, a page at a time. Both roles see
//! it; administrators add people, disable and enable them, and reset their passwords.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::{list_people, CreatePerson, ResetPersonPassword, SetPersonDisabled};
use super::{done_text, PeoplePage, PersonView, EMAIL_MAX};
use crate::accounts::{PASSWORD_MAX, PASSWORD_MIN, USERNAME_MAX};
use crate::error::AppError;
use crate::signin::ui::{AuthCtx, Guarded};
use crate::ui::form_token::FormToken;
use crate::ui::{fmt_time, Confirm, FieldError, FormError, LoadError};

#[derive(Clone, Copy)]
struct PeopleState {
    create: ServerAction<CreatePerson>,
    toggle: ServerAction<SetPersonDisabled>,
    reset: ServerAction<ResetPersonPassword>,
    page: Resource<Result<PeoplePage, AppError>>,
}

#[component]
pub fn PeoplePage() -> impl IntoView {
    // Made here, before `Guarded`: see `clients::ui::list::ClientsPage`.
    let query = use_query_map();
    let create = ServerAction::<CreatePerson>::new();
    let toggle = ServerAction::<SetPersonDisabled>::new();
    let reset = ServerAction::<ResetPersonPassword>::new();
    let page = Resource::new(
        move || {
            (
                query.read().get("after").unwrap_or_default(),
                create.version().get(),
                toggle.version().get(),
                // Drawn again after a reset too, so that no typed password stays in a row.
                reset.version().get(),
            )
        },
        |(after, ..)| list_people(after),
    );
    let st = PeopleState {
        create,
        toggle,
        reset,
        page,
    };
    view! {
        <Guarded>
            <People st/>
        </Guarded>
    }
}

#[component]
fn People(st: PeopleState) -> impl IntoView {
    let auth = expect_context::<AuthCtx>();
    let PeopleState {
        create,
        toggle,
        reset,
        page,
    } = st;
    let query = use_query_map();
    // The latest outcome: from the action that finished last (with JavaScript), or from the
    // page's address after a plain form post.
    let latest = RwSignal::new(None::<String>);
    let track = move |value: Signal<Option<PersonView>>, key: fn(&PersonView) -> &'static str| {
        Effect::new(move |_| {
            if let Some(p) = value.get() {
                latest.set(done_text(key(&p), &p.username));
            }
        });
    };
    let ok = |v: Option<Result<PersonView, AppError>>| v.and_then(Result::ok);
    track(Signal::derive(move || ok(create.value().get())), |_| {
        "created"
    });
    track(Signal::derive(move || ok(toggle.value().get())), |p| {
        if p.disabled {
            "disabled"
        } else {
            "enabled"
        }
    });
    track(Signal::derive(move || ok(reset.value().get())), |_| {
        "password"
    });
    let status = move || {
        latest.get().or_else(|| {
            let q = query.read();
            // Only a real username: the address must not make the page say anything else.
            let who = crate::accounts::normalize_username(&q.get("who")?).ok()?;
            done_text(&q.get("done")?, &who)
        })
    };
    let toggle_err = Signal::derive(move || toggle.value().get().and_then(Result::err));
    let reset_err = Signal::derive(move || reset.value().get().and_then(Result::err));
    view! {
        <h1>"People"</h1>
        <p class="lead">
            "The people who sign in to your apps. They are not console accounts: they never reach "
            "this console, and console accounts cannot sign in to apps."
        </p>
        <p class="status" role="status">{status}</p>
        <FormError err=toggle_err/>
        // A refused password shows here, the row's form being closed again after a plain post.
        {move || reset_err.get().map(|e| view! { <LoadError err=e/> })}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading people…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <LoadError err=e/> }.into_any(),
                    Ok(p) => view! { <Directory p admin=auth.is_admin() toggle reset/> }.into_any(),
                }
            })}
        </Transition>
        {move || auth.is_admin().then(|| view! { <NewPerson create/> })}
    }
}

#[component]
fn Directory(
    p: PeoplePage,
    admin: bool,
    toggle: ServerAction<SetPersonDisabled>,
    reset: ServerAction<ResetPersonPassword>,
) -> impl IntoView {
    let query = use_query_map();
    let paged = query
        .read_untracked()
        .get("after")
        .is_some_and(|a| !a.is_empty());
    if p.people.is_empty() {
        return view! {
            <p class="empty">{if paged { "No more people." } else { "No people yet. An administrator adds them below, or with clavis people create." }}</p>
            {paged.then(|| view! { <p><a href="/people">"First page"</a></p> })}
        }
        .into_any();
    }
    let rows = p
        .people
        .into_iter()
        .map(|person| view! { <PersonRow person admin toggle reset/> })
        .collect_view();
    view! {
        <table class="data">
            <caption class="visually-hidden">"People"</caption>
            <thead><tr>
                <th scope="col">"Username"</th>
                <th scope="col">"Display name"</th>
                <th scope="col">"E-mail"</th>
                <th scope="col">"Status"</th>
                <th scope="col">"Last sign-in"</th>
                {admin.then(|| view! { <th scope="col">"Actions"</th> })}
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <nav class="pager" aria-label="Pages of people">
            {paged.then(|| view! { <a href="/people">"First page"</a> })}
            " "
            {p.next_after.map(|after| view! { <a href=format!("/people?after={after}") rel="next">"Next page"</a> })}
        </nav>
    }
    .into_any()
}

#[component]
fn PersonRow(
    person: PersonView,
    admin: bool,
    toggle: ServerAction<SetPersonDisabled>,
    reset: ServerAction<ResetPersonPassword>,
) -> impl IntoView {
    let (id, who) = (person.id, person.username.clone());
    let actions = admin.then(|| {
        let (enable, disable, confirm) = (
            format!("Enable {who}"),
            format!("Disable {who}…"),
            format!("Disable {who}? They can no longer sign in to any app until enabled again."),
        );
        let (do_disable, reset_label, new_pw, set_pw) = (
            format!("Disable {who}"),
            format!("Reset password of {who}…"),
            format!("New password for {who}"),
            format!("Set password of {who}"),
        );
        let enable_or_disable = if person.disabled {
            view! {
                <ActionForm action=toggle attr:class="inline">
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="disabled" value="false"/>
                    <button type="submit" aria-label=enable>"Enable"</button>
                </ActionForm>
            }
            .into_any()
        } else {
            view! {
                <Confirm summary="Disable…" label=disable text=confirm>
                    <ActionForm action=toggle>
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="disabled" value="true"/>
                        <button type="submit" class="danger">{do_disable}</button>
                    </ActionForm>
                </Confirm>
            }
            .into_any()
        };
        let field = format!("person-password-{id}");
        view! {
            <td class="actions">
                {enable_or_disable}
                <details class="confirm">
                    <summary aria-label=reset_label>"Reset password…"</summary>
                    <ActionForm action=reset>
                        <input type="hidden" name="id" value=id/>
                        <label for=field.clone()>{new_pw}</label>
                        <input id=field.clone() name="password" type="password" required
                            maxlength=PASSWORD_MAX autocomplete="new-password" aria-describedby=format!("{field}-hint")/>
                        <small id=format!("{field}-hint")>{format!("{PASSWORD_MIN} to {PASSWORD_MAX} characters.")}</small>
                        <button type="submit">{set_pw}</button>
                    </ActionForm>
                </details>
            </td>
        }
    });
    view! {
        <tr>
            <th scope="row">{person.username.clone()}</th>
            <td>{person.display_name.clone()}</td>
            <td>{person.email.clone()}</td>
            <td>{if person.disabled { "Disabled" } else { "Active" }}</td>
            <td>{person.last_sign_in_at.map(fmt_time).unwrap_or_else(|| "never".into())}</td>
            {actions}
        </tr>
    }
}

#[component]
fn NewPerson(create: ServerAction<CreatePerson>) -> impl IntoView {
    let err = Signal::derive(move || create.value().get().and_then(Result::err));
    // The password of a person just added must not linger in the form.
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            if let Some(f) = form.get() {
                f.reset();
            }
        }
    });
    view! {
        <section class="card" aria-labelledby="new-person-title">
            <h2 id="new-person-title">"Add a person"</h2>
            <ActionForm action=create node_ref=form>
                <FormToken/>
                <label for="p-username">"Username"</label>
                <input id="p-username" name="input[username]" required maxlength=USERNAME_MAX autocomplete="off"/>
                <FieldError err field="username"/>
                <label for="p-display-name">"Display name"</label>
                <input id="p-display-name" name="input[display_name]" required maxlength="100" autocomplete="off"/>
                <FieldError err field="display_name"/>
                <label for="p-email">"E-mail"</label>
                <input id="p-email" name="input[email]" type="email" maxlength=EMAIL_MAX autocomplete="off" aria-describedby="p-email-hint"/>
                <p id="p-email-hint" class="hint">"Optional. Apps that ask for the email scope receive it."</p>
                <FieldError err field="email"/>
                <label for="p-password">"Password"</label>
                <input id="p-password" name="input[password]" type="password" required
                    maxlength=PASSWORD_MAX autocomplete="new-password" aria-describedby="p-password-hint"/>
                <p id="p-password-hint" class="hint">{format!("{PASSWORD_MIN} to {PASSWORD_MAX} characters. Give it to the person by a channel of its own.")}</p>
                <FieldError err field="password"/>
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Add person"</button>
            </ActionForm>
            <FormError err/>
        </section>
    }
}
