//! Two login servers sharing one real `redis-server`: sign-in attempts spread across them are
//! counted together, and a detection one made is the other's without the network.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::start;
use nativeauth_server::Api;
use nativeauth_testkit::RedisServer;
use serde_json::{Value, json};

#[tokio::test]
async fn attempts_split_across_servers_are_counted_together() {
    let redis = RedisServer::start();
    let url = redis.url();
    let fleet = |url: String| {
        move |file: &mut nativeauth_server::Settings| {
            file.redis_url = Some(url);
            file.login_attempts_per_minute = 3;
        }
    };
    let a = start(Api::V2, None, fleet(url.clone())).await;
    let b = start(Api::V2, None, fleet(url)).await;
    let (session_a, session_b) = (a.open("").await, b.open("").await);
    let attempt = json!({ "email": "victim@yahoo.com", "password": "wrong" });

    let mut statuses = Vec::new();
    for (harness, session) in
        [(&a, &session_a), (&b, &session_b), (&a, &session_a), (&b, &session_b)]
    {
        statuses.push(harness.login(session, attempt.clone()).await.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429], "three attempts in all, wherever they land");

    let metrics = a.http.get(format!("{}/metrics", a.base)).send().await.unwrap();
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("nativeauth_shared_store_errors_total{user=\"rate-limits\"} 0"),
        "{text}"
    );
    for reason in ["format", "signature", "expired", "body"] {
        let line = format!("nativeauth_shared_store_rejected_total{{reason=\"{reason}\"}} 0");
        assert!(text.contains(&line), "{line} in {text}");
    }
}

#[tokio::test]
async fn without_redis_each_server_still_limits_on_its_own() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    redis.stop();
    let a = start(Api::V2, None, move |file| {
        file.redis_url = Some(url);
        file.login_attempts_per_minute = 2;
    })
    .await;
    let session = a.open("").await;
    let attempt = json!({ "email": "victim@yahoo.com", "password": "wrong" });
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(a.login(&session, attempt.clone()).await.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 429]);
    let (status, body): (u16, Value) = a.detect("ann@yahoo.com").await;
    assert_eq!((status, body["detected"].as_bool()), (200, Some(true)));
    let text = a.get_text("/metrics").await;
    assert!(
        !text.contains("nativeauth_shared_store_errors_total{user=\"rate-limits\"} 0"),
        "{text}"
    );
}

#[tokio::test]
async fn a_server_with_its_own_nameservers_reads_the_fleet_but_publishes_nothing() {
    use nativeauth::DiscoveryConfig;
    use nativeauth_testkit::{DnsServer, Zone};
    let redis = RedisServer::start();
    let dns = DnsServer::start(Zone::new().mx("corp.test", 10, "aspmx.l.google.com"));
    let discovery = DiscoveryConfig::builder().nameservers([dns.addr()]).build();
    let url = redis.url();
    let server = start(Api::V2, Some(discovery), move |file| file.redis_url = Some(url)).await;
    let (status, body) = server.detect("ann@corp.test").await;
    assert_eq!((status, body["source"].as_str()), (200, Some("mx")), "{body}");
    let keys = std::process::Command::new("redis-cli")
        .args(["-p", &redis.port().to_string(), "--scan", "--pattern", "*run*"])
        .output()
        .expect("redis-cli runs");
    assert!(keys.status.success(), "{}", String::from_utf8_lossy(&keys.stderr));
    assert!(keys.stdout.is_empty(), "{}", String::from_utf8_lossy(&keys.stdout));
    // The rate limits went to Redis all the same: this server uses it, it only does not publish.
    let all = std::process::Command::new("redis-cli")
        .args(["-p", &redis.port().to_string(), "--scan"])
        .output()
        .expect("redis-cli runs");
    assert!(
        String::from_utf8_lossy(&all.stdout).contains("rate:"),
        "{}",
        String::from_utf8_lossy(&all.stdout)
    );
}
