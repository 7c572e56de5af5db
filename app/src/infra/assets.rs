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

/// The path of the stylesheet, with its hash when the files are hashed.
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    let hash = options
        .hash_files
        .then(|| hash_file(&options.hash_file))
        .flatten()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|h| hash_of(&h, "css").map(str::to_string));
    let name = match hash {
        Some(h) => format!("{}.{h}.css", options.output_name),
        None => format!("{}.css", options.output_name),
    };
    format!("/{}/{name}", options.site_pkg_dir)
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
    }
}
