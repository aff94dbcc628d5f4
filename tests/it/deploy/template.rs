//! template.yaml agrees with the code: one function per route of the shared
//! route table, each built from a workspace binary wired to that endpoint,
//! least-privilege policies, and timeouts that nest.

use crate::support::root;
use std::collections::BTreeSet;

use serde_yaml_ng::Value;
use shared::operations::ROUTES;
use shared::routes::UNMATCHED_BINARY;

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

fn functions(t: &Value) -> Vec<(String, Value)> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(k, r)| (k.as_str().unwrap().to_string(), r.clone()))
        .collect()
}

/// The paced jobs' worker: a function, not a route.
const JOBS_WORKER_BINARY: &str = "jobs-worker";
/// The event deliveries' worker: a function, not a route.
const DELIVERY_BINARY: &str = "events-delivery";

/// Each engine's webhook ingress: (method, path, binary, the engine's
/// `EngineHooks` type the binary runs).
fn hook_routes() -> Vec<(String, String, String, String)> {
    shared::engine::EngineKind::ALL
        .iter()
        .map(|e| {
            let module = e.as_str().replace('-', "_");
            let ty = camel(e.as_str());
            (
                "POST".to_string(),
                shared::events::ingress::route_path_of(*e),
                format!("hooks-{}", e.as_str()),
                format!("run_ingress::<shared::events::engines::{module}::{ty}>()"),
            )
        })
        .collect()
}

#[test]
fn every_route_has_one_function_and_binary() {
    let t = template();
    let mut in_template = BTreeSet::new();
    let mut default_routes = 0;
    for (name, f) in functions(&t) {
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        let binary = f["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} names no binary"))
            .to_string();
        assert_eq!(
            f["Properties"]["CodeUri"].as_str(),
            Some("functions"),
            "{name} is built from the functions package"
        );
        let events = f["Properties"]["Events"].as_mapping().unwrap();
        assert_eq!(events.len(), 1, "{name} serves one route");
        if binary == DELIVERY_BINARY {
            // Not a route: the deliveries queue's consumer.
            let (_, event) = events.iter().next().unwrap();
            assert_eq!(event["Type"], "SQS", "{name}");
            let p = &event["Properties"];
            assert_eq!(p["FunctionResponseTypes"][0], "ReportBatchItemFailures");
            let queue = &t["Resources"]["EventsQueue"]["Properties"];
            assert!(
                queue["FifoQueue"].is_null(),
                "a standard queue: no tenant waits on another"
            );
            assert!(
                queue["VisibilityTimeout"].as_u64().unwrap()
                    >= f["Properties"]["Timeout"].as_u64().unwrap()
            );
            assert!(
                f["Properties"]["Timeout"].as_u64().unwrap()
                    > shared::events::delivery::DELIVERY_TIMEOUT.as_secs()
            );
            continue;
        }
        if binary == JOBS_WORKER_BINARY {
            // Not a route: the jobs queue's consumer.
            let (_, event) = events.iter().next().unwrap();
            assert_eq!(event["Type"], "SQS", "{name}");
            let p = &event["Properties"];
            assert_eq!(p["FunctionResponseTypes"][0], "ReportBatchItemFailures");
            assert!(p["ScalingConfig"]["MaximumConcurrency"].as_u64().is_some());
            let queue = &t["Resources"]["JobsQueue"]["Properties"];
            assert_eq!(queue["FifoQueue"], true);
            assert!(
                queue["VisibilityTimeout"].as_u64().unwrap()
                    >= f["Properties"]["Timeout"].as_u64().unwrap(),
                "an SQS event source needs visibility ≥ the function's timeout"
            );
            assert!(matches!(
                queue["RedrivePolicy"]["deadLetterTargetArn"],
                Value::Tagged(_)
            ));
            continue;
        }
        for (_, event) in events {
            assert_eq!(event["Type"], "HttpApi");
            let Value::Tagged(api) = &event["Properties"]["ApiId"] else {
                panic!("{name}: ApiId is not a !Ref");
            };
            assert_eq!(
                (api.tag.to_string().as_str(), api.value.as_str()),
                ("!Ref", Some("HttpApi")),
                "{name} is on the one HTTP API"
            );
            let method = event["Properties"]["Method"].as_str();
            let path = event["Properties"]["Path"].as_str();
            match (method, path) {
                (Some(method), Some(path)) => {
                    in_template.insert((method.to_string(), path.to_string(), binary.clone()));
                }
                // No Method and no Path: the API's $default route.
                (None, None) => {
                    assert_eq!(binary, UNMATCHED_BINARY, "{name} is the $default route");
                    default_routes += 1;
                }
                _ => panic!("{name}: Method and Path go together"),
            }
        }
    }
    assert_eq!(default_routes, 1, "exactly one $default route");
    let in_code: BTreeSet<(String, String, String)> = ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.path.to_string(),
                r.function.to_string(),
            )
        })
        .chain(hook_routes().into_iter().map(|(m, p, b, _)| (m, p, b)))
        .collect();
    assert_eq!(in_template, in_code);

    // Every route's binary is a file of the functions package wired to its
    // operation, and every binary there is in the template.
    let bins = root().join("functions/src/bin");
    for route in ROUTES {
        let main = std::fs::read_to_string(bins.join(format!("{}.rs", route.function)))
            .unwrap_or_else(|_| panic!("no binary for {}", route.function));
        let wiring = format!(
            "run_lambda::<shared::operations::{}>()",
            camel(route.function)
        );
        assert!(
            main.contains(&wiring),
            "{} is not wired to its operation ({wiring})",
            route.function
        );
    }
    for (_, _, binary, wiring) in hook_routes() {
        let main = std::fs::read_to_string(bins.join(format!("{binary}.rs")))
            .unwrap_or_else(|_| panic!("no binary {binary}"));
        let main: String = main.split_whitespace().collect();
        assert!(main.contains(&wiring), "{binary} is not wired to {wiring}");
    }
    let delivery = std::fs::read_to_string(bins.join(format!("{DELIVERY_BINARY}.rs"))).unwrap();
    assert!(delivery.contains("run_delivery_lambda()"));
    let worker = std::fs::read_to_string(bins.join(format!("{JOBS_WORKER_BINARY}.rs"))).unwrap();
    assert!(
        worker.contains("run_worker_lambda()"),
        "{JOBS_WORKER_BINARY} runs the worker"
    );
    let main = std::fs::read_to_string(bins.join(format!("{UNMATCHED_BINARY}.rs"))).unwrap();
    assert!(
        main.contains("run_unmatched()"),
        "{UNMATCHED_BINARY} serves the $default route"
    );
    let workspace = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(
        workspace.contains("\"functions\""),
        "the functions package is a member"
    );
    let files: BTreeSet<String> = std::fs::read_dir(&bins)
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".rs").unwrap_or(&name).to_string()
        })
        .collect();
    let binaries: BTreeSet<String> = ROUTES
        .iter()
        .map(|r| r.function.to_string())
        .chain([
            UNMATCHED_BINARY.to_string(),
            JOBS_WORKER_BINARY.to_string(),
            DELIVERY_BINARY.to_string(),
        ])
        .chain(hook_routes().into_iter().map(|(_, _, b, _)| b))
        .collect();
    assert_eq!(files, binaries);
}

/// `add-group-participants` → `AddGroupParticipants`.
fn camel(function: &str) -> String {
    function
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// (table resource, action) pairs a function's policies allow. Each policy
/// is a `!Ref` to one of the template's managed policies.
fn grants(t: &Value, f: &Value) -> BTreeSet<(String, String)> {
    let as_list = |v: &Value| -> Vec<Value> {
        match v {
            Value::Sequence(s) => s.clone(),
            other => vec![other.clone()],
        }
    };
    let mut out = BTreeSet::new();
    for policy in f["Properties"]["Policies"].as_sequence().unwrap() {
        let Value::Tagged(reference) = policy else {
            panic!("a policy is not a !Ref to a managed policy: {policy:?}");
        };
        let name = reference.value.as_str().unwrap();
        let managed = &t["Resources"][name];
        assert_eq!(managed["Type"], "AWS::IAM::ManagedPolicy", "{name}");
        let document = &managed["Properties"]["PolicyDocument"];
        for statement in document["Statement"].as_sequence().unwrap() {
            assert_eq!(statement["Effect"], "Allow");
            for resource in as_list(&statement["Resource"]) {
                // `!GetAtt X.Arn` is a tagged value naming the resource.
                let Value::Tagged(tagged) = &resource else {
                    panic!("resource is not a !GetAtt: {resource:?}");
                };
                let target = tagged.value.as_str().unwrap().trim_end_matches(".Arn");
                for action in as_list(&statement["Action"]) {
                    let action = action.as_str().unwrap();
                    assert!(!action.contains('*'), "no wildcards: {action}");
                    out.insert((target.to_string(), action.to_string()));
                }
            }
        }
    }
    out
}

#[test]
fn functions_have_least_privilege() {
    let t = template();
    let pairs = |list: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    let read_auth = [
        ("TokensTable", "dynamodb:GetItem"),
        ("TenantsTable", "dynamodb:GetItem"),
        ("LanesTable", "dynamodb:GetItem"),
        ("LanesTable", "dynamodb:UpdateItem"),
        ("LanesTable", "dynamodb:Query"),
    ];
    let mut mutating = read_auth.to_vec();
    mutating.extend([
        ("IdempotencyTable", "dynamodb:GetItem"),
        ("IdempotencyTable", "dynamodb:PutItem"),
        ("IdempotencyTable", "dynamodb:UpdateItem"),
        ("IdempotencyTable", "dynamodb:DeleteItem"),
        ("AuditTable", "dynamodb:PutItem"),
    ]);
    let jobs_read = [
        ("JobsTable", "dynamodb:GetItem"),
        ("JobsTable", "dynamodb:Query"),
    ];
    let jobs_write = [
        ("JobsTable", "dynamodb:PutItem"),
        ("JobsTable", "dynamodb:BatchWriteItem"),
        ("JobsTable", "dynamodb:UpdateItem"),
        ("JobsQueue", "sqs:SendMessage"),
    ];
    for (name, f) in functions(&t) {
        let binary = f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        if binary == UNMATCHED_BINARY {
            assert!(
                f["Properties"]["Policies"].is_null(),
                "{name} needs no policy"
            );
            continue;
        }
        if binary == JOBS_WORKER_BINARY {
            // Reads tenants and lanes, runs jobs, audits, delays its message.
            let mut want = read_auth.to_vec();
            want.extend(jobs_read);
            want.extend(jobs_write);
            want.extend([
                ("AuditTable", "dynamodb:PutItem"),
                ("JobsQueue", "sqs:ChangeMessageVisibility"),
                // job.completed: stored, and queued for the endpoints.
                ("EventsTable", "dynamodb:GetItem"),
                ("EventsTable", "dynamodb:PutItem"),
                ("EventsTable", "dynamodb:Query"),
                ("EventsQueue", "sqs:SendMessage"),
            ]);
            assert_eq!(grants(&t, &f), pairs(&want), "{name}");
            continue;
        }
        if binary.starts_with("hooks-") || binary == DELIVERY_BINARY {
            // The ingress reads its hook, stores events and their dedupe
            // keys, lists the endpoints and queues deliveries, and matches a
            // change to a paced job (confirming its outcome); the worker
            // reads the event and endpoint, writes a disabled endpoint or a
            // dead letter, and queues the retry. Nothing else.
            let mut want = vec![
                ("EventsTable", "dynamodb:GetItem"),
                ("EventsTable", "dynamodb:PutItem"),
                ("EventsTable", "dynamodb:Query"),
                ("EventsQueue", "sqs:SendMessage"),
            ];
            if binary != DELIVERY_BINARY {
                want.extend([
                    ("JobsTable", "dynamodb:Query"),
                    ("JobsTable", "dynamodb:UpdateItem"),
                ]);
            }
            assert_eq!(grants(&t, &f), pairs(&want), "{name}");
            continue;
        }
        let route = ROUTES.iter().find(|r| r.function == binary).unwrap();
        let mut want = if route.mutating {
            mutating.clone()
        } else {
            read_auth.to_vec()
        };
        if route.path.contains("/jobs") {
            want.extend(jobs_read);
        }
        if route.queues_jobs {
            want.extend(jobs_write);
        } else if route.path.starts_with("/jobs") && route.mutating {
            want.push(("JobsTable", "dynamodb:UpdateItem"));
        }
        assert_eq!(grants(&t, &f), pairs(&want), "{name}");
    }
}

#[test]
fn timeouts_nest_inside_api_gateway() {
    let t = template();
    let function_timeout = t["Globals"]["Function"]["Timeout"].as_u64().unwrap();
    let max_deadline_ms = t["Parameters"]["WutsTimeoutMs"]["MaxValue"]
        .as_u64()
        .unwrap();
    assert!(function_timeout < 29, "API Gateway gives up at 29 s");
    assert!(max_deadline_ms < function_timeout * 1000);
    assert!(max_deadline_ms <= shared::config::MAX_ENGINE_TIMEOUT_MS);
}

#[test]
fn tables_match_the_adapter() {
    let t = template();
    let tokens = &t["Resources"]["TokensTable"]["Properties"];
    assert_eq!(tokens["KeySchema"][0]["AttributeName"], "token_hash");
    assert_eq!(
        tokens["GlobalSecondaryIndexes"][0]["IndexName"],
        shared::store::dynamo::TOKENS_BY_TENANT_INDEX
    );
    assert_eq!(
        tokens["TimeToLiveSpecification"]["AttributeName"],
        shared::store::dynamo::TOKENS_TTL_ATTRIBUTE
    );
    let tenants = &t["Resources"]["TenantsTable"]["Properties"];
    assert_eq!(tenants["KeySchema"][0]["AttributeName"], "tenant_id");
    assert_eq!(
        t["Resources"]["AuditTable"]["Properties"]["KeySchema"][1]["AttributeName"],
        "sk"
    );
    for table in ["IdempotencyTable", "AuditTable", "EventsTable"] {
        assert_eq!(
            t["Resources"][table]["Properties"]["TimeToLiveSpecification"]["AttributeName"],
            shared::store::dynamo::TTL_ATTRIBUTE
        );
    }
    let env = &t["Globals"]["Function"]["Environment"]["Variables"];
    for var in [
        "TOKENS_TABLE",
        "TENANTS_TABLE",
        "IDEMPOTENCY_TABLE",
        "AUDIT_TABLE",
        "LANES_TABLE",
        "EVENTS_TABLE",
    ] {
        assert!(!env[var].is_null(), "{var} is not set for the functions");
    }
    let lanes = &t["Resources"]["LanesTable"]["Properties"];
    assert_eq!(lanes["KeySchema"][0]["AttributeName"], "lane");
    assert_eq!(lanes["KeySchema"][1]["AttributeName"], "class");
    for table in [
        "TokensTable",
        "TenantsTable",
        "IdempotencyTable",
        "AuditTable",
        "LanesTable",
    ] {
        let r = &t["Resources"][table];
        assert_eq!(r["DeletionPolicy"], "Retain");
        assert_eq!(r["Properties"]["BillingMode"], "PAY_PER_REQUEST");
        assert_eq!(r["Properties"]["SSESpecification"]["SSEEnabled"], true);
    }
}

#[test]
fn openapi_documents_exactly_the_route_table() {
    let text = std::fs::read_to_string(root().join("openapi.yaml")).unwrap();
    let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    let mut hooks_documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_mapping().unwrap() {
        let path = path.as_str().unwrap();
        if path == "/openapi.yaml" {
            continue;
        }
        if path.starts_with("/hooks/") {
            // An engine's ingress: no bearer token, its own receipt.
            let op = &item["post"];
            assert_eq!(
                op["security"].as_sequence().map(Vec::len),
                Some(0),
                "{path}"
            );
            let responses = op["responses"].as_mapping().unwrap();
            for status in ["200", "400", "401", "404", "413"] {
                assert!(
                    responses.contains_key(status),
                    "POST {path} does not document {status}"
                );
            }
            hooks_documented.insert(path.to_string());
            continue;
        }
        for (method, op) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap().to_uppercase();
            let responses = op["responses"].as_mapping().unwrap();
            // A create answers 201, a job 202, everything else 200.
            let success = if method == "POST" && (path == "/groups" || path == "/communities") {
                "201"
            } else if method == "POST" && path.ends_with("/jobs") {
                "202"
            } else {
                "200"
            };
            assert!(
                responses.contains_key(success),
                "{method} {path} does not document {success}"
            );
            // A route without an engine call has no upstream to fail.
            let engine_less = ROUTES
                .iter()
                .any(|r| !r.engine && r.method == method && r.path == path);
            let required: &[&str] = if engine_less {
                &["400", "401", "403", "500", "503"]
            } else {
                &[
                    "400", "401", "403", "404", "429", "500", "502", "503", "504",
                ]
            };
            for status in required {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} does not document {status}"
                );
            }
            documented.insert((method, path.to_string()));
        }
    }
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert_eq!(documented, routed);
    let hooks: BTreeSet<String> = hook_routes().into_iter().map(|(_, p, _, _)| p).collect();
    assert_eq!(
        hooks_documented, hooks,
        "every engine's ingress is documented"
    );
    let codes: BTreeSet<String> = doc["components"]["schemas"]["Error"]["properties"]["error_code"]
        ["enum"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let table: BTreeSet<String> = shared::error::ERROR_CODES
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(codes, table, "every error_code of the table is documented");
    for route in ROUTES {
        let op = &doc["paths"][route.path][route.method.to_lowercase()];
        let key = route.key();
        let params = serde_yaml_ng::to_string(&op["parameters"]).unwrap();
        let text = serde_yaml_ng::to_string(op).unwrap();
        assert!(
            text.contains(route.scope.as_str()),
            "{key} documents its scope {}",
            route.scope.as_str()
        );
        // The key and its two refusals belong to the mutating routes only:
        // a read never claims a key, so it can answer neither.
        assert_eq!(
            params.contains("IdempotencyKey"),
            route.mutating,
            "{key}: Idempotency-Key documented iff the route mutates"
        );
        for status in ["409", "422"] {
            assert_eq!(
                op["responses"].as_mapping().unwrap().contains_key(status),
                route.mutating,
                "{key}: {status} documented iff the route mutates"
            );
        }
    }
}

/// `sam local --env-vars` passes only keys the template declares, so the
/// local-only variables are declared, and empty: a deployment never points
/// at a local DynamoDB or allows plain-http engines.
#[test]
fn local_only_variables_are_declared_empty() {
    let t = template();
    let env = &t["Globals"]["Function"]["Environment"]["Variables"];
    for var in ["AWS_ENDPOINT_URL_DYNAMODB", "ENGINE_ALLOW_HTTP"] {
        assert_eq!(env[var], "", "{var} is declared empty");
    }
    let empty = |key: &str| (key == "ENGINE_ALLOW_HTTP").then(String::new);
    let wuts =
        shared::config::engine_from_lookup(&empty).expect("empty ENGINE_ALLOW_HTTP is valid");
    assert!(!wuts.allow_http, "empty means the default: https only");
}
