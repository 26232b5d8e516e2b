//! The README's `discover` examples (its `console` blocks) run against the real binary: the
//! README fails the build when the output drifts from what it shows.

#[test]
fn the_readme_shows_what_discover_prints() {
    trycmd::TestCases::new()
        .register_bin("discover", trycmd::cargo::cargo_bin!("discover"))
        .env("NO_COLOR", "1")
        .case(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"));
}
