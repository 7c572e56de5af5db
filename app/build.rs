// Rebuild when a migration or a page template changes: `sqlx::migrate!` and askama embed the
// files at compile time.
//
// The store tests run every case on SQLite and on PostgreSQL. Without a PostgreSQL server
// (`CLAVIS_TEST_POSTGRES_URL` unset when the tests are built) the PostgreSQL variants are marked
// ignored, so that cargo's summary counts them as skipped instead of passing them silently.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-env-changed=CLAVIS_TEST_POSTGRES_URL");
    println!("cargo::rustc-check-cfg=cfg(clavis_no_test_postgres)");
    if std::env::var_os("CLAVIS_TEST_POSTGRES_URL").is_none() {
        println!("cargo:rustc-cfg=clavis_no_test_postgres");
    }
}
