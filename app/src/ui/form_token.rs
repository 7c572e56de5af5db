//! The single-use token of a form whose change must not be made twice (creating a client,
//! rotating a secret). Each rendering of such a form gets a fresh random token, on the server
//! for the first page and in the browser afterwards; the server records it with the change
//! (`infra::once`), so a reload that re-sends the form, or a second click, changes nothing.

use leptos::prelude::*;

/// The form field that carries the token.
pub const FIELD: &str = "form_token";

/// 128 random bits as 32 lowercase hex digits.
pub fn new_form_token() -> String {
    let bytes = random_16();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// True for what `new_form_token` makes.
pub fn is_form_token(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(feature = "ssr")]
fn random_16() -> [u8; 16] {
    rand::random()
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn random_16() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    let crypto = window().crypto().expect("this browser has no Web Crypto");
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .expect("Web Crypto gave no random values");
    bytes
}

#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
fn random_16() -> [u8; 16] {
    unreachable!("the app is built for the server or the browser")
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
