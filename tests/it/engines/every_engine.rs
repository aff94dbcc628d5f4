//! The handler scenarios, run against every engine's fake (`Flavour::ALL`:
//! session-service, WUTS, Evolution API, WAHA on GOWS, NOWEB and WEBJS), each
//! speaking its engine's wire format over loopback and sharing one
//! stateful group model. One body per scenario, parameterised by engine.

use std::future::Future;

use shared::engine::{Action, EngineKind};
use shared::store::{AuditStore, TenantStore};
use testkit::events::{self, RequestEdit};
use testkit::fakes::Flavour;
use testkit::harness::*;
use testkit::sim::{DEMO_COMMUNITY, DEMO_GROUP, DEMO_MEMBERS};
use testkit::wuts_fake::API_KEY;

/// Runs `scenario` once per engine flavour, side by side.
async fn for_every_engine<F, Fut>(scenario: F)
where
    F: Fn(Flavour) -> Fut,
    Fut: Future<Output = ()>,
{
    futures_util::future::join_all(Flavour::ALL.map(scenario)).await;
}

/// The status a participant that `flavour` reports as done gets: `ok`, or
/// `unconfirmed` where the engine says nothing per participant.
fn done(flavour: Flavour, action: Action) -> &'static str {
    if flavour.reports_outcomes(action) {
        "ok"
    } else {
        "unconfirmed"
    }
}

#[tokio::test]
async fn remove_and_promote_change_the_group_on_every_engine() {
    for_every_engine(|f| async move {
        let h = harness_for(f).await;
        let engine = f.name();
        // promote (the event's explicit action), then remove.
        let a = h
            .send(events::load("remove-group-participants-promote.json"))
            .await;
        assert_eq!(a.status, 200, "{engine}: {}", a.body);
        assert_eq!(
            a.body["participants"][0]["status"],
            done(f, Action::Promote),
            "{engine}"
        );
        let group = h.fake.sim.group(DEMO_GROUP).unwrap();
        assert!(
            group.members[DEMO_MEMBERS[0]].is_admin,
            "{engine}: promoted"
        );
        let a = h.send(events::load("remove-group-participants.json")).await;
        assert_eq!(a.status, 200, "{engine}: {}", a.body);
        for entry in a.body["participants"].as_array().unwrap() {
            assert_eq!(
                entry["status"],
                done(f, Action::Remove),
                "{engine}: {}",
                a.body
            );
        }
        let group = h.fake.sim.group(DEMO_GROUP).unwrap();
        assert!(!group.members.contains_key(DEMO_MEMBERS[0]), "{engine}");
        assert!(!group.members.contains_key(DEMO_MEMBERS[1]), "{engine}");

        // The request as the engine wants it: its auth header, never the
        // key anywhere else, and our request id.
        let call = &h.fake.calls()[1];
        let auth = match f.engine() {
            EngineKind::SessionService | EngineKind::Wuts => "authorization",
            EngineKind::Evolution => "apikey",
            EngineKind::Waha => "x-api-key",
        };
        assert!(
            call.headers[auth].to_str().unwrap().ends_with(API_KEY),
            "{engine}"
        );
        assert!(!call.path.contains(API_KEY) && !call.body.contains(API_KEY));
        assert_eq!(
            call.headers["x-request-id"],
            "evt-remove-group-participants"
        );
        assert!(!a.body.to_string().contains(API_KEY));
    })
    .await;
}

#[tokio::test]
async fn per_participant_outcomes_on_every_engine() {
    for_every_engine(|f| async move {
        let h = harness_for(f).await;
        let engine = f.name();
        h.fake
            .sim
            .set_privacy_restricted("5511000000001@s.whatsapp.net");
        let req = events::load("add-group-participants.json").with_body(
            r#"{"participants":["5511888888888@s.whatsapp.net","+5511000000001","5511000000002"]}"#,
        );
        let a = h.send(req).await;
        assert_eq!(a.status, 200, "{engine}: {}", a.body);
        let p = &a.body["participants"];
        assert_eq!(p.as_array().unwrap().len(), 3, "{engine}");
        assert_eq!(p[0]["status"], "failed", "{engine}: {}", a.body);
        assert_eq!(p[0]["error"]["reason"], "already_member", "{engine}");
        assert_eq!(p[1]["error"]["reason"], "privacy_restricted", "{engine}");
        if f != Flavour::WahaWebjs {
            // whatsapp-web.js sends the private invite itself and does not
            // hand the code back.
            assert!(
                p[1]["error"]["add_request"]["code"].is_string(),
                "{engine}: {}",
                a.body
            );
        }
        assert_eq!(p[2]["status"], "ok", "{engine}");
        assert!(
            h.fake
                .sim
                .group(DEMO_GROUP)
                .unwrap()
                .members
                .contains_key("5511000000002@s.whatsapp.net")
        );
        // One audit record, with the outcomes.
        let audit = h.store.list_audit("acme", None, 10).await.unwrap();
        assert_eq!(audit.len(), 1, "{engine}");
        assert_eq!(audit[0].participants[1].status.as_deref(), Some("failed"));
    })
    .await;
}

#[tokio::test]
async fn invite_links_on_every_engine() {
    for_every_engine(|f| async move {
        let h = harness_for(f).await;
        let engine = f.name();
        let code = h.fake.sim.group(DEMO_GROUP).unwrap().invite_code;
        let a = h.send(events::load("get-group-invite-link.json")).await;
        assert_eq!(a.status, 200, "{engine}: {}", a.body);
        assert_eq!(
            a.body["invite_link"],
            format!("https://chat.whatsapp.com/{code}"),
            "{engine}"
        );
        let a = h.send(events::load("reset-group-invite-link.json")).await;
        assert_eq!(a.status, 200, "{engine}: {}", a.body);
        let after = h.fake.sim.group(DEMO_GROUP).unwrap().invite_code;
        assert_ne!(after, code, "{engine}: the link was reset");
        assert_eq!(
            a.body["invite_link"],
            format!("https://chat.whatsapp.com/{after}"),
            "{engine}"
        );
        assert_eq!(h.fake.calls().len(), 2, "{engine}: reset sent once");
    })
    .await;
}

#[tokio::test]
async fn communities_where_the_engine_has_them_501_elsewhere() {
    for_every_engine(|f| async move {
        let h = harness_for(f).await;
        let engine = f.name();
        for event in [
            "remove-community-participants.json",
            "add-community-participants.json",
        ] {
            let a = h.send(events::load(event)).await;
            if f.supports_communities() {
                assert_eq!(a.status, 200, "{engine} {event}: {}", a.body);
            } else {
                assert_error(&a, 501, "NOT_SUPPORTED");
                assert!(
                    a.body["error"]
                        .as_str()
                        .unwrap()
                        .contains("nothing was sent"),
                    "{engine}: {}",
                    a.body
                );
            }
        }
        let sent = usize::from(f.supports_communities()) * 2;
        assert_eq!(h.fake.calls().len(), sent, "{engine}");
        let audit = h.store.list_audit("acme", None, 10).await.unwrap();
        assert_eq!(audit.len(), sent, "{engine}: nothing sent, nothing audited");
        if f.supports_communities() {
            assert!(h.fake.sim.group(DEMO_COMMUNITY).is_some());
        }
    })
    .await;
}

#[tokio::test]
async fn engine_refusals_map_to_the_contract_on_every_engine() {
    for_every_engine(|f| async move {
        let h = harness_for(f).await;
        let engine = f.name();
        // A group the account is not in.
        let req = events::load("get-group-invite-link.json")
            .with_path("/groups/120363000000000999@g.us/invite");
        assert_error(&h.send(req).await, 404, "NOT_FOUND");

        // The device is offline.
        h.fake.sim.set_connected(false);
        let a = h.send(events::load("remove-group-participants.json")).await;
        assert_error(&a, 503, "DEVICE_NOT_READY");
        h.fake.sim.set_connected(true);

        // A wrong key: the engine's own 401, a configuration fault.
        let mut t = tenant_for(f, &h.fake.base_url());
        t.wuts_api_key = "wrong-key".into();
        h.store.put_tenant(&t).await.unwrap();
        let h2 = harness_on(&h, std::time::Duration::ZERO);
        let a = send(&h2, events::load("reset-group-invite-link.json")).await;
        assert_error(&a, 502, "UPSTREAM_ERROR");
        assert!(!a.body.to_string().contains("wrong-key"), "{engine}");

        // A session the engine does not know (not for wuts: the key names
        // the device).
        if f.engine() != EngineKind::Wuts {
            let mut t = tenant_for(f, &h.fake.base_url());
            t.wuts_session_id = "someone-else".into();
            h.store.put_tenant(&t).await.unwrap();
            let a = send(&h2, events::load("reset-group-invite-link.json")).await;
            assert_error(&a, 503, "DEVICE_NOT_READY");
        }
    })
    .await;
}

/// A TLS front for `backend` on loopback, for `localhost`, with a fresh
/// self-signed certificate (a private CA's, to the client): returns its
/// port and the certificate as PEM.
async fn tls_front(backend: std::net::SocketAddr) -> (u16, String) {
    tls_front_as(backend, false).await
}

/// [`tls_front`], its certificate marked `CA:TRUE` when `ca` (what
/// `openssl req -x509` makes by default).
async fn tls_front_as(backend: std::net::SocketAddr, ca: bool) -> (u16, String) {
    use std::sync::Arc;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    if ca {
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    }
    let signing_key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&signing_key).unwrap();
    let pem = cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (port, pem)
}

#[tokio::test]
async fn an_engine_behind_a_private_ca_needs_engine_ca_bundle() {
    use shared::AppState;
    use shared::config::EngineConfig;
    use shared::engine::transport::HttpEngine;
    use std::sync::Arc;
    use std::time::Duration;

    let h = harness_for(Flavour::Evolution).await;
    let (port, pem) = tls_front(h.fake.addr).await;
    h.store
        .put_tenant(&tenant_for(
            Flavour::Evolution,
            &format!("https://localhost:{port}"),
        ))
        .await
        .unwrap();
    let engine = |ca_bundle: Option<std::path::PathBuf>| {
        Arc::new(
            HttpEngine::new(EngineConfig {
                default_base_url: None,
                timeout: UPSTREAM_DEADLINE,
                allow_http: false,
                ca_bundle,
            })
            .unwrap(),
        )
    };
    // Without the bundle: the certificate is refused, nothing is sent.
    let state = AppState::new(h.store.clone(), engine(None), Duration::ZERO);
    let a = send(&state, events::load("get-group-invite-link.json")).await;
    assert_error(&a, 502, "UPSTREAM_ERROR");
    assert!(h.fake.calls().is_empty());

    // With it: served, over TLS.
    let dir = std::env::temp_dir().join(format!("ca-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = dir.join("engine-ca.pem");
    std::fs::write(&bundle, pem).unwrap();
    let state = AppState::new(
        h.store.clone(),
        engine(Some(bundle.clone())),
        Duration::ZERO,
    );
    let a = send(&state, events::load("get-group-invite-link.json")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(h.fake.calls().len(), 1);

    // A bundle that is not one fails the cold start, naming the variable.
    std::fs::write(&bundle, "not a certificate").unwrap();
    let err = HttpEngine::new(EngineConfig {
        ca_bundle: Some(bundle.clone()),
        ..EngineConfig::default()
    })
    .err()
    .unwrap();
    assert!(err.to_string().contains("ENGINE_CA_BUNDLE"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A self-signed certificate marked `CA:TRUE` (`openssl req -x509`'s
/// default) cannot be a server's own: webpki refuses a CA certificate used
/// as an end entity, even when the bundle trusts it. The connection error
/// names that cause, not only reqwest's "error sending request".
#[tokio::test]
async fn a_ca_certificate_as_the_engines_own_is_refused_and_the_error_says_why() {
    use shared::config::EngineConfig;
    use shared::engine::transport::HttpEngine;
    let h = harness_for(Flavour::Wuts).await;
    let (port, pem) = tls_front_as(h.fake.addr, true).await;
    let dir = std::env::temp_dir().join(format!("ca-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = dir.join("engine-ca.pem");
    std::fs::write(&bundle, pem).unwrap();
    let engine = HttpEngine::new(EngineConfig {
        default_base_url: None,
        timeout: std::time::Duration::from_secs(5),
        allow_http: false,
        ca_bundle: Some(bundle),
    })
    .unwrap();
    let target = shared::engine::EngineTarget {
        engine: shared::engine::EngineKind::Wuts,
        base_url: format!("https://localhost:{port}"),
        session_id: String::new(),
        api_key: API_KEY.into(),
    };
    let meta = shared::engine::CallMeta {
        request_id: "ca-as-leaf".into(),
        deadline: tokio::time::Instant::now() + std::time::Duration::from_secs(5),
        handed_over: Default::default(),
    };
    let group = shared::jid::GroupJid::parse(testkit::sim::DEMO_GROUP).unwrap();
    let err = shared::engine::send(
        &engine,
        &target,
        shared::engine::calls::Invite::get(&group),
        meta,
    )
    .await
    .unwrap_err();
    match &err {
        shared::engine::EngineError::Connect(why) => {
            assert!(why.contains("CaUsedAsEndEntity"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert!(h.fake.calls().is_empty(), "nothing reached the engine");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn no_engine_redirect_is_followed() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    // Where a redirect would lead: counts what reaches it.
    let reached = Arc::new(AtomicUsize::new(0));
    let counter = reached.clone();
    let target = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            "{}"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, target).await;
    });
    let redirector = axum::Router::new().fallback(move || {
        let location = format!("{target_url}/elsewhere");
        async move {
            (
                axum::http::StatusCode::TEMPORARY_REDIRECT,
                [("location", location)],
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirecting = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, redirector).await;
    });
    for_every_engine(|f| {
        let redirecting = redirecting.clone();
        async move {
            let h = harness_for(f).await;
            h.store
                .put_tenant(&tenant_for(f, &redirecting))
                .await
                .unwrap();
            let state = harness_on(&h, std::time::Duration::ZERO);
            let a = send(&state, events::load("reset-group-invite-link.json")).await;
            assert_error(&a, 502, "UPSTREAM_ERROR");
            assert_eq!(a.body["outcome"], "unknown", "{}: {}", f.name(), a.body);
        }
    })
    .await;
    assert_eq!(reached.load(Ordering::SeqCst), 0, "a redirect was followed");
}

#[tokio::test]
async fn leave_and_the_ephemeral_timer_where_the_engine_has_them() {
    use testkit::sim::DEMO_SPARE_GROUP;
    for_every_engine(|f| async move {
        let h = harness_for(f).await;
        let engine = f.name();
        let a = h
            .send(
                events::load("set-group-ephemeral.json").with_header("idempotency-key", "timer-1"),
            )
            .await;
        if f.supports("set-group-ephemeral") {
            assert_eq!(a.status, 200, "{engine}: {}", a.body);
            assert_eq!(a.body["duration_seconds"], 604_800);
            assert_eq!(
                h.fake.sim.group(DEMO_GROUP).unwrap().ephemeral_seconds,
                604_800,
                "{engine}: the timer was set"
            );
            // The same key with another duration is another request.
            let other = events::load("set-group-ephemeral.json")
                .with_header("idempotency-key", "timer-1")
                .with_body(r#"{"duration_seconds": 0}"#);
            assert_error(&h.send(other).await, 422, "IDEMPOTENCY_KEY_REUSED");
        } else {
            assert_error(&a, 501, "NOT_SUPPORTED");
        }

        let a = h.send(events::load("leave-group.json")).await;
        if f.supports("leave-group") {
            assert_eq!(a.status, 200, "{engine}: {}", a.body);
            assert_eq!(a.body, serde_json::json!({"success": true}));
            assert!(
                h.fake.sim.group(DEMO_SPARE_GROUP).is_none(),
                "{engine}: left"
            );
            // Gone: the next call on it is the engine's "no such group".
            let again = h.send(events::load("leave-group.json")).await;
            assert_error(&again, 404, "NOT_FOUND");
        } else {
            assert_error(&a, 501, "NOT_SUPPORTED");
            assert!(h.fake.sim.group(DEMO_SPARE_GROUP).is_some());
        }
        let sent = usize::from(f.supports("set-group-ephemeral"))
            + 2 * usize::from(f.supports("leave-group"));
        assert_eq!(
            h.fake.calls().len(),
            sent,
            "{engine}: nothing sent for a 501"
        );
        let audited = h.store.list_audit("acme", None, 10).await.unwrap();
        assert_eq!(audited.len(), sent, "{engine}");
    })
    .await;
}
