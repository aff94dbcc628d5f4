//! Each engine's documented requests, replies and error shapes (the
//! examples `docs/ENGINES.md` cites) through the adapters, as the transport
//! addresses and reads them (`shared::engine::transport::{request, read}`).

use shared::engine::calls::{
    GroupInfo, Invite, InviteCall, Leave, LinkGroup, ListGroups, SetEphemeral, SetPicture,
    UpdateGroup,
};
use shared::engine::groups::{GroupChange, Join, NewCommunity, NewGroup};
use shared::engine::wire::{Done, Reply};
use shared::engine::{EngineError, EngineKind, transport};
use shared::jid::GroupJid;

fn gj() -> GroupJid {
    GroupJid::parse("120363039000000000@g.us").unwrap()
}

fn get_invite() -> Invite {
    Invite {
        group: gj(),
        which: InviteCall::Get,
    }
}

fn info() -> GroupInfo {
    GroupInfo { group: gj() }
}

fn new_group() -> NewGroup {
    NewGroup {
        name: "n".into(),
        participants: vec![],
        options: Default::default(),
    }
}

fn new_community() -> NewCommunity {
    NewCommunity {
        name: "n".into(),
        participants: vec![],
        description: None,
    }
}

fn join() -> Join {
    Join::Link {
        code: "AbCdEfGhIjKlMnOpQrStUv".into(),
    }
}

fn picture() -> SetPicture {
    SetPicture {
        group: gj(),
        base64: String::new(),
    }
}

/// A call whose success carries no content, read as `engine` reads it.
fn done(engine: EngineKind, call: Done, reply: &Reply) -> Result<(), EngineError> {
    match call {
        Done::Leave => transport::read(engine, &Leave { group: gj() }, reply),
        Done::Ephemeral => transport::read(
            engine,
            &SetEphemeral {
                group: gj(),
                seconds: 0,
            },
            reply,
        ),
        Done::Update(field) => {
            let step = match field {
                "name" => GroupChange {
                    name: Some("n".into()),
                    ..GroupChange::default()
                },
                "topic" => GroupChange {
                    topic: Some("t".into()),
                    ..GroupChange::default()
                },
                "announcement" => GroupChange {
                    announcement: Some(true),
                    ..GroupChange::default()
                },
                "locked" => GroupChange {
                    locked: Some(true),
                    ..GroupChange::default()
                },
                "join_approval" => GroupChange {
                    join_approval: Some(true),
                    ..GroupChange::default()
                },
                other => panic!("no step for {other}"),
            };
            transport::read(engine, &UpdateGroup { group: gj(), step }, reply).map(|_| ())
        }
        Done::Picture => transport::read(engine, &picture(), reply).map(|_| ()),
        Done::Link => transport::read(
            engine,
            &LinkGroup {
                community: gj(),
                group: gj(),
                link: true,
            },
            reply,
        ),
    }
}

/// Each engine's documented requests, replies and error shapes.
mod documented {
    use super::*;

    use lambda_http::http::Method;
    use serde_json::json;

    use shared::engine::wire::{self, Reply};
    use shared::engine::{
        Action, EngineError, EngineKind, EngineTarget, GroupKind, Reach, UpdateParticipants,
    };
    use shared::error::ApiError;
    use shared::jid::{GroupJid, ParticipantJid};

    fn target(engine: EngineKind, session: &str) -> EngineTarget {
        EngineTarget {
            engine,
            base_url: "https://engine.example".into(),
            session_id: session.into(),
            api_key: "secret".into(),
        }
    }

    fn call(kind: GroupKind, action: Action, who: &[&str]) -> UpdateParticipants {
        UpdateParticipants {
            kind,
            group: GroupJid::parse("120363039000000000@g.us").unwrap(),
            action,
            participants: who
                .iter()
                .map(|p| ParticipantJid::normalise(p).unwrap())
                .collect(),
            invite_on_privacy: false,
        }
    }

    fn reply(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            retry_after: None,
            content_type: Some("application/json".into()),
            body: body.to_string().into_bytes(),
        }
    }

    fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            retry_after: None,
            content_type: Some("text/html".into()),
            body: body.as_bytes().to_vec(),
        }
    }

    /// The answer our caller gets for an engine error.
    fn answered(err: EngineError) -> (u16, &'static str, Reach) {
        let reach = err.reach();
        let api: ApiError = err.into();
        (api.status().as_u16(), api.code(), reach)
    }

    const GROUP: GroupKind = GroupKind::Group;

    #[test]
    fn requests_per_engine() {
        let c = call(GROUP, Action::Remove, &["5511888888888", "123456789@lid"]);
        let out = transport::request("https://e", &target(EngineKind::SessionService, "s/1"), &c)
            .unwrap();
        assert_eq!(
            out.url,
            "https://e/v1/sessions/s%2F1/groups/120363039000000000%40g.us/participants"
        );
        assert_eq!(out.body.unwrap()["action"], "remove");

        let out = transport::request("https://e", &target(EngineKind::Wuts, ""), &c).unwrap();
        assert_eq!(out.method, Method::DELETE);
        assert_eq!(
            out.url,
            "https://e/groups/120363039000000000@g.us/participants"
        );
        assert_eq!(
            out.body.unwrap(),
            json!({"participants": ["5511888888888@s.whatsapp.net", "123456789@lid"], "action": "remove"})
        );
        let add = call(GroupKind::Community, Action::Promote, &["5511888888888"]);
        let out = transport::request("https://e", &target(EngineKind::Wuts, ""), &add).unwrap();
        assert_eq!(out.method, Method::POST);
        assert!(out.url.starts_with("https://e/communities/"));

        let out = transport::request("https://e", &target(EngineKind::Evolution, "acme main"), &c)
            .unwrap();
        assert_eq!(out.method, Method::POST);
        assert_eq!(
            out.url,
            "https://e/group/updateParticipant/acme%20main?groupJid=120363039000000000%40g.us"
        );
        assert_eq!(out.auth, wire::Auth::Header("apikey"));

        let out =
            transport::request("https://e", &target(EngineKind::Waha, "default"), &c).unwrap();
        assert_eq!(
            out.url,
            "https://e/api/default/groups/120363039000000000%40g.us/participants/remove"
        );
        assert_eq!(
            out.body.unwrap(),
            json!({"participants": [{"id": "5511888888888@c.us"}, {"id": "123456789@lid"}]})
        );
        let promote = call(GROUP, Action::Promote, &["5511888888888"]);
        let out = transport::request("https://e", &target(EngineKind::Waha, "default"), &promote)
            .unwrap();
        assert!(out.url.ends_with("/admin/promote"));
        assert_eq!(out.auth, wire::Auth::Header("X-Api-Key"));
    }

    #[test]
    fn communities_are_not_supported_on_evolution_and_waha() {
        let c = call(GroupKind::Community, Action::Add, &["5511888888888"]);
        for engine in [EngineKind::Evolution, EngineKind::Waha] {
            let err = transport::request("https://e", &target(engine, "x"), &c).unwrap_err();
            assert_eq!(
                answered(err),
                (501, "NOT_SUPPORTED", Reach::NotSent),
                "{engine}"
            );
        }
    }

    #[test]
    fn evolution_replies() {
        let c = call(GROUP, Action::Add, &["558599999999", "162122214428868@lid"]);
        // Issue #2011 (a privacy refusal with its add_request) and #2541 (a
        // LID with its phone number).
        let r = reply(
            201,
            json!({"updateParticipants": [
                {"status": "403", "jid": "558599999999@s.whatsapp.net",
                 "content": {"tag": "participant", "attrs": {"jid": "558599999999@s.whatsapp.net", "error": "403"},
                             "content": [{"tag": "add_request", "attrs": {"code": "cV0oyyBsD49e6Plw", "expiration": "1759028118"}}]}},
                {"status": "200", "jid": "162122214428868@lid",
                 "content": {"tag": "participant", "attrs": {"jid": "162122214428868@lid", "phone_number": "556195536737@s.whatsapp.net"}}},
                {"status": "weird", "jid": "x"},
            ]}),
        );
        let got = transport::read(EngineKind::Evolution, &c, &r).unwrap();
        assert_eq!(got.len(), 2, "an unreadable entry accounts for nobody");
        assert_eq!(got[0].error, Some(403));
        let add = got[0].add_request.as_ref().unwrap();
        assert_eq!(
            (add.code.as_str(), add.expiration),
            ("cV0oyyBsD49e6Plw", Some(1_759_028_118))
        );
        assert_eq!(got[1].error, None);
        assert_eq!(got[1].lid.as_deref(), Some("162122214428868@lid"));
        assert_eq!(
            got[1].phone_number.as_deref(),
            Some("556195536737@s.whatsapp.net")
        );

        let link = transport::read(
            EngineKind::Evolution, &get_invite(),
            &reply(200, json!({"inviteUrl": "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv", "inviteCode": "AbCdEfGhIjKlMnOpQrStUv"})),
        )
        .unwrap();
        assert_eq!(link, "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv");
        let link = transport::read(
            EngineKind::Evolution,
            &get_invite(),
            &reply(
                201,
                json!({"revoked": true, "inviteCode": "ZyXwVuTsRqPoNmLkJiHgFe"}),
            ),
        )
        .unwrap();
        assert_eq!(link, "https://chat.whatsapp.com/ZyXwVuTsRqPoNmLkJiHgFe");
        for bad in ["ab/c?d=1234567", "short", "undefined"] {
            assert!(
                transport::read(
                    EngineKind::Evolution,
                    &get_invite(),
                    &reply(200, json!({"inviteCode": bad}))
                )
                .is_err()
            );
        }
    }

    #[test]
    fn evolution_errors() {
        let evo = |status: u16, message: serde_json::Value| {
            let r = reply(
                status,
                json!({"status": status, "error": "x", "response": {"message": message}}),
            );
            answered(transport::read(EngineKind::Evolution, &get_invite(), &r).unwrap_err())
        };
        let baileys = |text: &str| {
            evo(
                400,
                json!(["Error updating participants", format!("Error: {text}")]),
            )
        };
        assert_eq!(
            evo(401, json!("Unauthorized")),
            (502, "UPSTREAM_ERROR", Reach::Refused)
        );
        assert_eq!(
            evo(404, json!(["The \"acme\" instance does not exist"])),
            (503, "DEVICE_NOT_READY", Reach::Refused)
        );
        assert_eq!(
            evo(404, json!(["Cannot POST /group/updateParticipant/x"])),
            (502, "UPSTREAM_ERROR", Reach::Refused)
        );
        assert_eq!(
            baileys("not-authorized"),
            (403, "FORBIDDEN", Reach::Refused)
        );
        assert_eq!(baileys("forbidden"), (403, "FORBIDDEN", Reach::Refused));
        assert_eq!(
            baileys("item-not-found"),
            (404, "NOT_FOUND", Reach::Refused)
        );
        assert_eq!(
            baileys("rate-overlimit"),
            (429, "RATE_LIMITED", Reach::Refused)
        );
        // Raised before sending and also after: the outcome is unknown.
        assert_eq!(
            baileys("Connection Closed"),
            (503, "DEVICE_NOT_READY", Reach::MayHaveActed)
        );
        // A socket never created: nothing was sent.
        assert_eq!(
            baileys("TypeError: Cannot read properties of undefined (reading 'groupCreate')"),
            (503, "DEVICE_NOT_READY", Reach::Refused)
        );
        // The same TypeError about a reply's property: not settled.
        assert_eq!(
            baileys("TypeError: Cannot read properties of undefined (reading 'id')"),
            (502, "UPSTREAM_ERROR", Reach::MayHaveActed)
        );
        assert_eq!(
            baileys("some text nobody documented"),
            (502, "UPSTREAM_ERROR", Reach::MayHaveActed)
        );
        // Its JSON-schema validation names a property: nothing was sent.
        assert_eq!(
            evo(
                400,
                json!([{"property": "instance.participants[0]", "message": "does not match pattern"}])
            ),
            (400, "VALIDATION_ERROR", Reach::Refused)
        );
        assert_eq!(
            evo(
                500,
                json!(["Error creating group", "Error: Connection Closed"])
            ),
            (503, "DEVICE_NOT_READY", Reach::MayHaveActed)
        );
        assert_eq!(
            baileys("Timed Out"),
            (502, "UPSTREAM_ERROR", Reach::MayHaveActed)
        );
        assert_eq!(
            evo(404, json!(["No invite code", "Error: item-not-found"])),
            (404, "NOT_FOUND", Reach::Refused)
        );
        assert_eq!(
            evo(
                400,
                json!([{"property": "participants[0]", "message": "bad"}])
            ),
            (400, "VALIDATION_ERROR", Reach::Refused)
        );
        assert_eq!(
            evo(
                500,
                json!("Cannot read properties of undefined (reading 'updateGParticipant')")
            ),
            (503, "DEVICE_NOT_READY", Reach::Refused)
        );
        assert_eq!(
            evo(500, json!("boom")),
            (502, "UPSTREAM_ERROR", Reach::MayHaveActed)
        );
    }

    #[test]
    fn waha_replies_by_internal_engine() {
        let c = call(GROUP, Action::Add, &["962700000000", "5511888888888"]);
        // GOWS (issue #2002): whatsmeow's participants, Go field names.
        let gows = reply(
            200,
            json!([
                {"JID": "98a7c1e5f203b6d1@lid", "PhoneNumber": "962700000000@s.whatsapp.net", "LID": "98a7c1e5f203b6d1@lid",
                 "IsAdmin": false, "IsSuperAdmin": false, "DisplayName": "", "Error": 403,
                 "AddRequest": {"Code": "Xy7Kp9LmQ2vR8sTa", "Expiration": "2026-04-09T11:44:32+03:00"}},
                {"JID": "5511888888888@s.whatsapp.net", "PhoneNumber": "", "LID": "", "IsAdmin": false,
                 "IsSuperAdmin": false, "Error": 0, "AddRequest": null},
            ]),
        );
        let got = transport::read(EngineKind::Waha, &c, &gows).unwrap();
        assert_eq!(
            got[0].phone_number.as_deref(),
            Some("962700000000@s.whatsapp.net")
        );
        assert_eq!(got[0].error, Some(403));
        assert_eq!(
            got[0].add_request.as_ref().unwrap().expiration,
            Some(1_775_724_272)
        );
        assert_eq!((got[1].error, got[1].phone_number.as_deref()), (None, None));

        // A GOWS list with an entry of the wrong types: read leniently, that
        // entry accounting for nobody.
        let odd = reply(
            200,
            json!([
                {"JID": "5511888888888@s.whatsapp.net", "Error": "409"},
                {"JID": "962700000000@s.whatsapp.net", "Error": 0},
            ]),
        );
        let got = transport::read(EngineKind::Waha, &c, &odd).unwrap();
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            (got[0].jid.as_str(), got[0].error),
            ("962700000000@s.whatsapp.net", None)
        );

        // NOWEB: Baileys' list.
        let noweb = reply(
            200,
            json!([{"status": "409", "jid": "5511888888888@s.whatsapp.net",
                    "content": {"tag": "participant", "attrs": {"jid": "5511888888888@s.whatsapp.net", "error": "409"}}}]),
        );
        let got = transport::read(EngineKind::Waha, &c, &noweb).unwrap();
        assert_eq!(
            (got[0].jid.as_str(), got[0].error),
            ("5511888888888@s.whatsapp.net", Some(409))
        );

        // WEBJS add: a map by the id sent.
        let webjs = reply(
            200,
            json!({"5511888888888@c.us": {"code": 200, "message": "ok", "isInviteV4Sent": false},
                   "962700000000@c.us": {"code": 408, "message": "recently left"}}),
        );
        let mut got = transport::read(EngineKind::Waha, &c, &webjs).unwrap();
        got.sort_by(|a, b| a.jid.cmp(&b.jid));
        assert_eq!(got[0].jid, "5511888888888@s.whatsapp.net");
        assert_eq!(got[0].error, None);
        assert_eq!(got[1].error, Some(408));

        // WEBJS remove/promote/demote, and an empty body: nobody accounted for.
        for r in [
            reply(200, json!({"status": 200})),
            text(200, ""),
            text(201, "  "),
        ] {
            assert!(
                transport::read(EngineKind::Waha, &c, &r)
                    .unwrap()
                    .is_empty()
            );
        }
        // WEBJS add without admin rights: a text body with a 2xx.
        let err = transport::read(
            EngineKind::Waha,
            &c,
            &text(
                200,
                "AddParticipantsError: You have no admin rights to add a participant to a group",
            ),
        )
        .unwrap_err();
        assert_eq!(answered(err), (403, "FORBIDDEN", Reach::Refused));
        let err = transport::read(EngineKind::Waha, &c, &text(200, "<html>")).unwrap_err();
        assert_eq!(answered(err), (502, "UPSTREAM_ERROR", Reach::MayHaveActed));
    }

    #[test]
    fn waha_invite_codes_and_errors() {
        for (body, want) in [
            (
                "AbCdEfGhIjKlMnOpQrStUv",
                "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv",
            ),
            (
                "https://chat.whatsapp.com/AbCdEfGhIjKl",
                "https://chat.whatsapp.com/AbCdEfGhIjKl",
            ),
            (
                "\"AbCdEfGhIjKlMnOpQrStUv\"\n",
                "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv",
            ),
        ] {
            assert_eq!(
                transport::read(EngineKind::Waha, &get_invite(), &text(200, body)).unwrap(),
                want
            );
        }
        for bad in ["", "https://evil.example/AbCdEfGhIjKl", "AbCdEf/../x1234"] {
            assert!(
                transport::read(EngineKind::Waha, &get_invite(), &text(200, bad)).is_err(),
                "{bad:?}"
            );
        }
        let err = |status: u16, body: serde_json::Value| {
            answered(
                transport::read(EngineKind::Waha, &get_invite(), &reply(status, body)).unwrap_err(),
            )
        };
        assert_eq!(
            err(401, json!({"statusCode": 401, "message": "Unauthorized"})),
            (502, "UPSTREAM_ERROR", Reach::Refused)
        );
        assert_eq!(
            err(403, json!({"statusCode": 403, "message": "Forbidden"})),
            (502, "UPSTREAM_ERROR", Reach::Refused)
        );
        assert_eq!(
            err(
                404,
                json!({"statusCode": 404, "message": "We didn't find a session with name 'x'.", "error": "Not Found"})
            ),
            (503, "DEVICE_NOT_READY", Reach::Refused)
        );
        assert_eq!(
            err(
                422,
                json!({"error": "Session status is not as expected. Try again later or restart the session", "status": "STARTING"})
            ),
            (503, "DEVICE_NOT_READY", Reach::Refused)
        );
        assert_eq!(
            err(
                501,
                json!({"statusCode": 501, "message": "The method is not implemented by 'GOWS' engine."})
            ),
            (501, "NOT_SUPPORTED", Reach::Refused)
        );
        assert_eq!(
            err(
                500,
                json!({"statusCode": 500, "exception": {"message": "not-authorized"}})
            ),
            (403, "FORBIDDEN", Reach::Refused)
        );
        assert_eq!(
            err(
                500,
                json!({"statusCode": 500, "exception": {"message": "item-not-found"}})
            ),
            (404, "NOT_FOUND", Reach::Refused)
        );
        assert_eq!(
            err(
                500,
                json!({"statusCode": 500, "exception": {"message": "2 UNKNOWN: server returned error 463"}})
            ),
            (502, "UPSTREAM_ERROR", Reach::MayHaveActed)
        );
    }

    #[test]
    fn leave_and_ephemeral_per_engine() {
        let group = GroupJid::parse("120363039000000000@g.us").unwrap();
        let leave = |engine, session| {
            transport::request(
                "https://e",
                &target(engine, session),
                &Leave {
                    group: group.clone(),
                },
            )
        };
        let out = leave(EngineKind::Wuts, "").unwrap();
        assert_eq!(
            (out.method, out.url.as_str()),
            (
                Method::DELETE,
                "https://e/groups/120363039000000000@g.us/leave"
            )
        );
        let out = leave(EngineKind::Evolution, "acme").unwrap();
        assert_eq!(
            (out.method, out.url.as_str()),
            (
                Method::DELETE,
                "https://e/group/leaveGroup/acme?groupJid=120363039000000000%40g.us"
            )
        );
        let out = leave(EngineKind::Waha, "default").unwrap();
        assert_eq!(
            (out.method, out.url.as_str()),
            (
                Method::POST,
                "https://e/api/default/groups/120363039000000000%40g.us/leave"
            )
        );
        let err = leave(EngineKind::SessionService, "s").unwrap_err();
        assert_eq!(answered(err), (501, "NOT_SUPPORTED", Reach::NotSent));

        let timer = |engine, session| {
            transport::request(
                "https://e",
                &target(engine, session),
                &SetEphemeral {
                    group: group.clone(),
                    seconds: 86_400,
                },
            )
        };
        let out = timer(EngineKind::Wuts, "").unwrap();
        assert_eq!(out.method, Method::PUT);
        assert_eq!(out.body.unwrap(), json!({"duration_seconds": 86400}));
        let out = timer(EngineKind::Evolution, "acme").unwrap();
        assert_eq!(out.url, "https://e/group/toggleEphemeral/acme");
        assert_eq!(
            out.body.unwrap(),
            json!({"groupJid": "120363039000000000@g.us", "expiration": 86400})
        );
        for engine in [EngineKind::Waha, EngineKind::SessionService] {
            assert_eq!(
                answered(timer(engine, "s").unwrap_err()),
                (501, "NOT_SUPPORTED", Reach::NotSent)
            );
        }

        // Replies: each engine's documented answer to the call, nothing
        // else (issue 21: a proxy's login page is not a success).
        use shared::engine::wire::Done;
        for (engine, call, r) in [
            (
                EngineKind::Wuts,
                Done::Leave,
                reply(200, json!({"success": true})),
            ),
            (
                EngineKind::Evolution,
                Done::Leave,
                reply(200, json!({"groupJid": "1@g.us", "leave": true})),
            ),
            (
                EngineKind::Evolution,
                Done::Ephemeral,
                reply(201, json!({"success": true})),
            ),
            (
                EngineKind::Evolution,
                Done::Update("name"),
                reply(201, json!({"update": "success"})),
            ),
            (
                EngineKind::Evolution,
                Done::Update("locked"),
                reply(201, json!({})),
            ),
            (EngineKind::Waha, Done::Leave, text(200, "")),
            (
                EngineKind::Waha,
                Done::Update("join_approval"),
                text(200, "true"),
            ),
            (
                EngineKind::Waha,
                Done::Picture,
                reply(200, json!({"success": true})),
            ),
        ] {
            assert!(done(engine, call, &r).is_ok(), "{engine} {call:?}");
        }
        for (engine, call, r) in [
            (
                EngineKind::Wuts,
                Done::Leave,
                text(200, "<html>login</html>"),
            ),
            (EngineKind::Wuts, Done::Leave, reply(200, json!({}))),
            (EngineKind::Wuts, Done::Link, text(200, "")),
            (
                EngineKind::Evolution,
                Done::Leave,
                reply(200, json!({"leave": false})),
            ),
            (
                EngineKind::Evolution,
                Done::Leave,
                text(200, "<html>login</html>"),
            ),
            (EngineKind::Evolution, Done::Picture, reply(201, json!({}))),
            (EngineKind::Evolution, Done::Ephemeral, text(201, "")),
            (
                EngineKind::Waha,
                Done::Leave,
                text(200, "<html>login</html>"),
            ),
            (EngineKind::Waha, Done::Update("name"), text(200, "false")),
            (EngineKind::Waha, Done::Picture, text(200, "")),
        ] {
            let no = done(engine, call, &r).unwrap_err();
            assert_eq!(
                answered(no),
                (502, "UPSTREAM_ERROR", Reach::MayHaveActed),
                "{engine} {call:?}"
            );
        }
        let refused = done(
            EngineKind::Evolution,
            Done::Leave,
            &reply(400, json!({"status": 400, "error": "Bad Request",
                               "response": {"message": ["Unable to leave the group", "Error: item-not-found"]}})),
        )
        .unwrap_err();
        assert_eq!(answered(refused), (404, "NOT_FOUND", Reach::Refused));
    }

    #[test]
    fn wuts_errors() {
        let err = |status: u16, body: serde_json::Value| {
            answered(
                transport::read(EngineKind::Wuts, &get_invite(), &reply(status, body)).unwrap_err(),
            )
        };
        assert_eq!(
            err(
                503,
                json!({"success": false, "error": "WhatsApp session is not connected", "error_code": "DEVICE_NOT_READY"})
            ),
            (503, "DEVICE_NOT_READY", Reach::Refused)
        );
        assert_eq!(
            err(401, json!({"success": false, "error": "unauthorized"})),
            (502, "UPSTREAM_ERROR", Reach::Refused)
        );
        assert_eq!(
            err(403, json!({"success": false, "error_code": "FORBIDDEN"})),
            (403, "FORBIDDEN", Reach::Refused)
        );
        assert_eq!(
            err(404, json!({"success": false, "error_code": "NOT_FOUND"})),
            (404, "NOT_FOUND", Reach::Refused)
        );
        assert_eq!(
            err(
                400,
                json!({"success": false, "error_code": "VALIDATION_ERROR"})
            ),
            (400, "VALIDATION_ERROR", Reach::Refused)
        );
        assert_eq!(
            err(500, json!({"success": false, "error": "boom"})),
            (502, "UPSTREAM_ERROR", Reach::MayHaveActed)
        );
        let ok = transport::read(
            EngineKind::Wuts,
            &get_invite(),
            &reply(
                200,
                json!({"success": true, "group_jid": "1@g.us", "invite_link": "https://chat.whatsapp.com/ZyXwVuTsRqPoNmLkJiHgFe", "reset_at": "2026-06-15T10:05:00Z"}),
            ),
        );
        assert_eq!(
            ok.unwrap(),
            "https://chat.whatsapp.com/ZyXwVuTsRqPoNmLkJiHgFe"
        );
        let invite = transport::request(
            "https://api.wuts.com.br",
            &target(EngineKind::Wuts, ""),
            &Invite {
                group: GroupJid::parse("1@g.us").unwrap(),
                which: InviteCall::Reset,
            },
        )
        .unwrap();
        assert_eq!(
            invite.url,
            "https://api.wuts.com.br/groups/1@g.us/invite/reset"
        );
    }
}

mod never_panic {
    use super::*;
    use shared::engine::EngineKind;
    use shared::engine::wire::Reply;

    /// Whatever a 2xx carries, reading it as any group reply never panics
    /// (a bare number once did: indexing a JSON number panics).
    #[test]
    fn odd_bodies_never_panic() {
        for body in [
            "0",
            "[]",
            "[0]",
            "\"x\"",
            "null",
            "true",
            "false",
            "{}",
            "{\"group\":0}",
            "{\"groups\":{}}",
            "{\"JID\":5}",
            "{\"gid\":[]}",
            "{\"groupMetadata\":1}",
            "",
        ] {
            for status in [200, 201] {
                let reply = Reply {
                    status,
                    retry_after: None,
                    content_type: Some("application/json".into()),
                    body: body.as_bytes().to_vec(),
                };
                let page = shared::engine::ListPage {
                    after: None,
                    limit: 10,
                };
                let step = shared::engine::groups::GroupChange {
                    name: Some("n".into()),
                    ..Default::default()
                };
                for engine in EngineKind::ALL {
                    let _ = transport::read(engine, &info(), &reply);
                    let _ = transport::read(engine, &new_group(), &reply);
                    let _ = transport::read(engine, &new_community(), &reply);
                    let _ = transport::read(engine, &ListGroups { page: page.clone() }, &reply);
                    let _ = transport::read(engine, &join(), &reply);
                    let _ = transport::read(
                        engine,
                        &UpdateGroup {
                            group: gj(),
                            step: step.clone(),
                        },
                        &reply,
                    );
                    let _ = transport::read(engine, &picture(), &reply);
                }
            }
        }
        let zero = Reply {
            status: 200,
            retry_after: None,
            content_type: Some("application/json".into()),
            body: b"0".to_vec(),
        };
        assert!(transport::read(EngineKind::Wuts, &info(), &zero).is_err());
    }

    /// Issue 21: every reader, every engine, every shape, with each date and
    /// number field set to an out-of-range date, a huge or a negative
    /// number. Before the fix, GOWS's `GroupCreated` of
    /// `9999-12-31T23:59:59-23:59` panicked in `to_offset`.
    #[test]
    fn hostile_values_never_panic() {
        let call = shared::engine::UpdateParticipants {
            kind: shared::engine::GroupKind::Group,
            group: shared::jid::GroupJid::parse("1@g.us").unwrap(),
            action: shared::engine::Action::Add,
            participants: vec![shared::jid::ParticipantJid::normalise("1@lid").unwrap()],
            invite_on_privacy: false,
        };
        let page = shared::engine::ListPage {
            after: None,
            limit: 10,
        };
        let mut read = 0;
        for v in shared::engine::adapters::hostile::VALUES {
            for t in shared::engine::adapters::hostile::TEMPLATES {
                let reply = Reply {
                    status: 200,
                    retry_after: None,
                    content_type: Some("application/json".into()),
                    body: shared::engine::adapters::hostile::body(t, v),
                };
                for engine in EngineKind::ALL {
                    let _ = transport::read(engine, &call, &reply);
                    for g in [
                        transport::read(engine, &info(), &reply),
                        transport::read(engine, &new_group(), &reply),
                    ]
                    .into_iter()
                    .flatten()
                    {
                        read += 1;
                        // Whatever came out is a valid time or none.
                        if let Some(t) = &g.created_at {
                            assert!(t.ends_with('Z') && t.len() == 20, "{t}");
                        }
                    }
                    if let Ok(p) =
                        transport::read(engine, &ListGroups { page: page.clone() }, &reply)
                    {
                        read += p.groups.len();
                    }
                }
            }
        }
        assert!(read > 0, "the templates must reach the readers");
    }

    #[test]
    fn zero_is_not_a_group() {
        let zero = Reply {
            status: 200,
            retry_after: None,
            content_type: Some("application/json".into()),
            body: b"0".to_vec(),
        };
        assert!(transport::read(EngineKind::Wuts, &info(), &zero).is_err());
    }
}
