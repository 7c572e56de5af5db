//! The names of the site's files. With `hash-files` (release builds), cargo-leptos puts a hash
//! of each file's content in its name and writes the hashes to `hash.txt` next to the server
//! binary; a name then changes whenever its content does, so browsers may keep each file for a
//! year (see the server's `pkg` service).

use std::path::PathBuf;

use leptos::config::LeptosOptions;

/// Where cargo-leptos writes the hashes: next to the running binary.
pub fn hash_file(options_hash_file: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join(options_hash_file))
}

/// The hash of one kind of file (`js`, `wasm`, `css`) from a `hash.txt` text.
pub fn hash_of<'a>(hashes: &'a str, kind: &str) -> Option<&'a str> {
    hashes.lines().find_map(|line| {
        let (k, v) = line.trim().split_once(':')?;
        (k.trim() == kind).then_some(v.trim())
    })
}

/// The text of `hash.txt`, when the files are hashed.
fn hashes(options: &LeptosOptions) -> Option<String> {
    let path = options
        .hash_files
        .then(|| hash_file(&options.hash_file))??;
    std::fs::read_to_string(path).ok()
}

/// The path of the stylesheet, with its hash when the files are hashed.
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    let name = match hashes(options).as_deref().and_then(|h| hash_of(h, "css")) {
        Some(h) => format!("{}.{h}.css", options.output_name),
        None => format!("{}.css", options.output_name),
    };
    format!("/{}/{name}", options.site_pkg_dir)
}

/// The path of the module that loads the page chunks of a split build (`--split`, see
/// scripts/build-release.sh), or `None` for a build that is not split. The main bundle imports
/// it, so the shell preloads it: otherwise the browser finds it only once the main JavaScript
/// has arrived, one round trip later.
pub fn split_loader_href(options: &LeptosOptions) -> Option<String> {
    let hashes = hashes(options)?;
    let hash = hash_of(&hashes, "split")?;
    Some(format!("/{}/__wasm_split.{hash}.js", options.site_pkg_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_read_per_kind() {
        let text = "js: abc123\nwasm: def456\ncss: 789fed\n";
        assert_eq!(hash_of(text, "wasm"), Some("def456"));
        assert_eq!(hash_of(text, "css"), Some("789fed"));
        assert_eq!(hash_of(text, "png"), None);
        let options = LeptosOptions::builder().output_name("clavis").build();
        assert_eq!(stylesheet_href(&options), "/pkg/clavis.css");
        assert_eq!(
            split_loader_href(&options),
            None,
            "a build without hash.txt"
        );
    }
}
