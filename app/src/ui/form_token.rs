//! The single-use token of a form whose change must not be made twice (creating a client,
//! rotating a secret). Each rendering of such a form gets a fresh random token, on the server
//! for the first page and in the browser afterwards; the server records it with the change
//! (`infra::once`), so a reload that re-sends the form, or a second click, changes nothing.

use leptos::prelude::*;

/// The form field that carries the token.
pub const FIELD: &str = "form_token";

/// 128 random bits as 32 lowercase hex digits. Empty if the browser gives no random values
/// (every browser that runs WebAssembly does); the server then refuses the form and asks for
/// a reload.
pub fn new_form_token() -> String {
    match random_16() {
        Some(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        None => String::new(),
    }
}

/// True for what `new_form_token` makes.
pub fn is_form_token(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(feature = "ssr")]
fn random_16() -> Option<[u8; 16]> {
    Some(rand::random())
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn random_16() -> Option<[u8; 16]> {
    let mut bytes = [0u8; 16];
    window()
        .crypto()
        .ok()?
        .get_random_values_with_u8_array(&mut bytes)
        .ok()?;
    Some(bytes)
}

#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
fn random_16() -> Option<[u8; 16]> {
    None
}

/// The hidden field with a fresh token. Hydration keeps the server's value in the page, which
/// is the one the form sends.
#[component]
pub fn FormToken() -> impl IntoView {
    view! { <input type="hidden" name=FIELD value=new_form_token()/> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_and_recognised() {
        let (a, b) = (new_form_token(), new_form_token());
        assert_ne!(a, b);
        assert!(is_form_token(&a), "{a}");
        for bad in [
            "",
            "abc",
            &a.to_uppercase(),
            &format!("{a}0"),
            &a.replace(&a[..1], "g"),
        ] {
            assert!(!is_form_token(bad), "{bad:?}");
        }
    }
}
