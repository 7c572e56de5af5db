//! Whole files that hold a new secret, offered as `data:` URLs: the escaping both kinds share,
//! and `ConfigFile`, a generated configuration file (an authorizer's, see
//! `authorizers::config_files`).

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

/// Everything but RFC 3986's unreserved characters is escaped in a `data:` URL.
pub const DATA_URL_ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A whole configuration file that holds a new secret (an authorizer's, see
/// `authorizers::config_files`), downloaded under its own name.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// What the download is called on the page: the file's usual name, such as `.env`.
    pub label: String,
    /// The name it is saved under (browsers refuse names that start with a dot).
    pub filename: String,
    pub content: String,
}

impl std::fmt::Debug for ConfigFile {
    // CAUTION: the content may hold a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigFile")
            .field("filename", &self.filename)
            .finish_non_exhaustive()
    }
}

impl ConfigFile {
    pub fn new(filename: &str, content: String) -> Self {
        ConfigFile::named(filename, filename, content)
    }

    pub fn named(label: &str, filename: &str, content: String) -> Self {
        ConfigFile {
            label: label.to_string(),
            filename: filename.to_string(),
            content,
        }
    }

    /// The file as a `data:` URL, as `Download::data_url`.
    pub fn data_url(&self) -> String {
        let mime = if self.filename.ends_with(".yaml") {
            "application/yaml"
        } else {
            "text/plain"
        };
        format!(
            "data:{mime};charset=utf-8,{}",
            utf8_percent_encode(&self.content, DATA_URL_ESCAPED)
        )
    }
}
