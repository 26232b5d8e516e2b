//! The `custom_provider` example: a plugin written against the facade alone registers itself
//! and answers for its domains, while the built-in providers still answer for the rest.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::process::Command;

fn run(address: &str) -> String {
    let path = nativeauth_testkit::built_example("custom_provider");
    let output = Command::new(path).arg(address).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_plugin_answers_for_its_domains_and_the_builtins_for_the_rest() {
    assert_eq!(
        run("jane@subsidiary.example"),
        "jane@subsidiary.example: Corp Mail via catalogue\n"
    );
    assert_eq!(run("bob@gmail.com"), "bob@gmail.com: Gmail via catalogue\n");
    assert_eq!(run("eve@elsewhere.example"), "eve@elsewhere.example: nothing found\n");
}
