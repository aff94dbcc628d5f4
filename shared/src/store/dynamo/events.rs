//! The events table (`EVENTS_TABLE`): partition key `pk` (S), sort key `sk`
//! (S).
//! - `hook#{sha256 of the hook token}` / `hook`: the hook (tenant, engine,
//!   session, the engine's signing secret).
//! - `tenant#{id}` / `hook`: the hash of the tenant's current hook token, so
//!   a new one replaces it.
//! - `tenant#{id}` / `dedupe#{content hash}`: an engine event seen, kept
//!   `events::DEDUPE_SECS` (`expires_at`, the TTL; an expired item still
//!   there counts as absent).
//! - `tenant#{id}` / `evt#{id}`: a normalised event (`event`, its JSON),
//!   kept `events::EVENT_RETENTION_SECS`. Ids are UUID v7: newest first is
//!   a backwards query.
//!
//! - `tenant#{id}` / `ep#{endpoint id}`: an endpoint (`endpoint`, its JSON,
//!   secrets included).
//! - `tenant#{id}` / `fail#{endpoint id}#{event id}`: a dead letter
//!   (`failure`, its JSON), kept `events::EVENT_RETENTION_SECS`.
//!
//! An event and its dedupe item are written in one `TransactWriteItems`,
//! conditioned on the dedupe item's absence.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};

use super::{DynamoStore, Item, classify, n, s};
use crate::events::delivery::Endpoint;
use crate::events::{DEDUPE_SECS, EVENT_RETENTION_SECS, Event, EventStore, Failure, Hook, Stored};
use crate::store::StoreError;

fn key(pk: &str, sk: &str) -> Item {
    Item::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

fn built<T, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Other(format!("{what}: {e}")))
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

impl DynamoStore {
    fn events_table(&self) -> &str {
        &self.tables.events
    }

    /// A JSON document stored under `sk` of the tenant, in attribute `attr`.
    async fn put_doc<T: serde::Serialize>(
        &self,
        tenant_id: &str,
        sk: &str,
        attr: &str,
        doc: &T,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut item = key(&format!("tenant#{tenant_id}"), sk);
        let json = serde_json::to_string(doc)
            .map_err(|e| StoreError::Other(format!("{attr} item: {e}")))?;
        item.insert(attr.into(), s(&json));
        if let Some(at) = expires_at {
            item.insert("expires_at".into(), n(at));
        }
        self.put(self.events_table(), item).await
    }

    /// The tenant's JSON documents whose `sk` starts with `prefix`, in key
    /// order (every page).
    async fn docs<T: serde::de::DeserializeOwned>(
        &self,
        tenant_id: &str,
        prefix: &str,
        attr: &str,
    ) -> Result<Vec<T>, StoreError> {
        let table = self.events_table();
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
                .expression_attribute_values(":pk", s(&format!("tenant#{tenant_id}")))
                .expression_attribute_values(":p", s(prefix))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| classify(&format!("Query {table}"), e))?;
            for item in page.items() {
                if let Some(json) = item.get(attr).and_then(|v| v.as_s().ok()) {
                    out.push(
                        serde_json::from_str(json)
                            .map_err(|e| StoreError::Other(format!("{attr} item: {e}")))?,
                    );
                }
            }
            match page.last_evaluated_key() {
                Some(k) => start = Some(k.clone()),
                None => return Ok(out),
            }
        }
    }

    async fn delete_key(&self, tenant_id: &str, sk: &str) -> Result<bool, StoreError> {
        let table = self.events_table();
        let out = self
            .client
            .delete_item()
            .table_name(table)
            .set_key(Some(key(&format!("tenant#{tenant_id}"), sk)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| classify(&format!("DeleteItem {table}"), e))?;
        Ok(out.attributes().is_some_and(|a| !a.is_empty()))
    }
}

#[async_trait]
impl EventStore for DynamoStore {
    async fn put_hook(&self, token_hash: &str, hook: &Hook) -> Result<(), StoreError> {
        let table = self.events_table();
        let tenant_pk = format!("tenant#{}", hook.tenant_id);
        let previous = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key(&tenant_pk, "hook")))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify(&format!("GetItem {table}"), e))?
            .item()
            .and_then(|i| text(i, "hash"));
        let mut hook_item = key(&format!("hook#{token_hash}"), "hook");
        hook_item.insert("tenant_id".into(), s(&hook.tenant_id));
        hook_item.insert("engine".into(), s(hook.engine.as_str()));
        hook_item.insert("session".into(), s(&hook.session));
        hook_item.insert("created_at".into(), n(hook.created_at));
        if let Some(secret) = &hook.engine_secret {
            hook_item.insert("engine_secret".into(), s(secret));
        }
        let mut pointer = key(&tenant_pk, "hook");
        pointer.insert("hash".into(), s(token_hash));
        let mut writes = vec![
            TransactWriteItem::builder()
                .put(built(
                    "hook item",
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(hook_item))
                        .build(),
                )?)
                .build(),
            TransactWriteItem::builder()
                .put(built(
                    "hook pointer",
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(pointer))
                        .build(),
                )?)
                .build(),
        ];
        if let Some(old) = previous.filter(|old| old != token_hash) {
            writes.push(
                TransactWriteItem::builder()
                    .delete(built(
                        "old hook",
                        Delete::builder()
                            .table_name(table)
                            .set_key(Some(key(&format!("hook#{old}"), "hook")))
                            .build(),
                    )?)
                    .build(),
            );
        }
        self.client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
            .map_err(|e| classify(&format!("TransactWriteItems {table}"), e))?;
        Ok(())
    }

    async fn get_hook(&self, token_hash: &str) -> Result<Option<Hook>, StoreError> {
        let table = self.events_table();
        let out = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key(&format!("hook#{token_hash}"), "hook")))
            .send()
            .await
            .map_err(|e| classify(&format!("GetItem {table}"), e))?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        let engine = text(item, "engine")
            .and_then(|e| crate::engine::EngineKind::parse(&e))
            .ok_or_else(|| StoreError::Other("hook item: bad engine".into()))?;
        Ok(Some(Hook {
            tenant_id: text(item, "tenant_id")
                .ok_or_else(|| StoreError::Other("hook item: no tenant".into()))?,
            engine,
            session: text(item, "session").unwrap_or_default(),
            engine_secret: text(item, "engine_secret"),
            created_at: item
                .get("created_at")
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        }))
    }

    async fn put_event(
        &self,
        event: &Event,
        dedupe: &str,
        now_secs: i64,
    ) -> Result<Stored, StoreError> {
        let table = self.events_table();
        let pk = format!("tenant#{}", event.tenant_id);
        let mut seen = key(&pk, &format!("dedupe#{dedupe}"));
        seen.insert("expires_at".into(), n(now_secs + DEDUPE_SECS));
        seen.insert("event_id".into(), s(&event.id));
        let mut item = key(&pk, &format!("evt#{}", event.id));
        let json = serde_json::to_string(event)
            .map_err(|e| StoreError::Other(format!("event item: {e}")))?;
        item.insert("event".into(), s(&json));
        item.insert("type".into(), s(event.kind.as_str()));
        item.insert("expires_at".into(), n(now_secs + EVENT_RETENTION_SECS));
        let writes = vec![
            TransactWriteItem::builder()
                .put(built(
                    "dedupe item",
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(seen))
                        .condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
                        .expression_attribute_values(":now", n(now_secs))
                        .build(),
                )?)
                .build(),
            TransactWriteItem::builder()
                .put(built(
                    "event item",
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(item))
                        .build(),
                )?)
                .build(),
        ];
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
        {
            Ok(_) => Ok(Stored::New),
            Err(e) => {
                let duplicate = e
                    .as_service_error()
                    .and_then(|se| match se {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(tc) => Some(tc),
                        _ => None,
                    })
                    .is_some_and(|tc| {
                        tc.cancellation_reasons()
                            .first()
                            .and_then(|r| r.code())
                            == Some("ConditionalCheckFailed")
                    });
                if duplicate {
                    Ok(Stored::Duplicate)
                } else {
                    Err(classify(&format!("TransactWriteItems {table}"), e))
                }
            }
        }
    }

    async fn list_events(
        &self,
        tenant_id: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Vec<Event>, StoreError> {
        let table = self.events_table();
        let pk = format!("tenant#{tenant_id}");
        let upper = match cursor {
            Some(c) => format!("evt#{c}"),
            None => "evt$".to_string(),
        };
        let out = self
            .client
            .query()
            .table_name(table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":lo", s("evt#"))
            .expression_attribute_values(":hi", s(&upper))
            .scan_index_forward(false)
            .limit(limit.saturating_add(1) as i32)
            .send()
            .await
            .map_err(|e| classify(&format!("Query {table}"), e))?;
        let mut events = Vec::new();
        for item in out.items() {
            let Some(json) = item
                .get("event")
                .and_then(|v: &AttributeValue| v.as_s().ok())
            else {
                continue;
            };
            let event: Event = serde_json::from_str(json)
                .map_err(|e| StoreError::Other(format!("event item: {e}")))?;
            if cursor.is_some_and(|c| event.id.as_str() >= c) {
                continue;
            }
            events.push(event);
        }
        events.truncate(limit as usize);
        Ok(events)
    }

    async fn get_event(&self, tenant_id: &str, id: &str) -> Result<Option<Event>, StoreError> {
        let table = self.events_table();
        let out = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key(
                &format!("tenant#{tenant_id}"),
                &format!("evt#{id}"),
            )))
            .send()
            .await
            .map_err(|e| classify(&format!("GetItem {table}"), e))?;
        out.item()
            .and_then(|i| i.get("event"))
            .and_then(|v| v.as_s().ok())
            .map(|json| {
                serde_json::from_str(json)
                    .map_err(|e| StoreError::Other(format!("event item: {e}")))
            })
            .transpose()
    }

    async fn put_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        self.put_doc(
            &endpoint.tenant_id,
            &format!("ep#{}", endpoint.id),
            "endpoint",
            endpoint,
            None,
        )
        .await
    }

    async fn list_endpoints(&self, tenant_id: &str) -> Result<Vec<Endpoint>, StoreError> {
        let mut list: Vec<Endpoint> = self.docs(tenant_id, "ep#", "endpoint").await?;
        list.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(list)
    }

    async fn delete_endpoint(&self, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
        self.delete_key(tenant_id, &format!("ep#{id}")).await
    }

    async fn put_failure(&self, failure: &Failure) -> Result<(), StoreError> {
        self.put_doc(
            &failure.tenant_id,
            &format!("fail#{}#{}", failure.endpoint_id, failure.event_id),
            "failure",
            failure,
            Some(failure.failed_at + EVENT_RETENTION_SECS),
        )
        .await
    }

    async fn list_failures(&self, tenant_id: &str) -> Result<Vec<Failure>, StoreError> {
        let mut list: Vec<Failure> = self.docs(tenant_id, "fail#", "failure").await?;
        list.sort_by_key(|f| f.failed_at);
        Ok(list)
    }

    async fn delete_failure(
        &self,
        tenant_id: &str,
        endpoint_id: &str,
        event_id: &str,
    ) -> Result<(), StoreError> {
        self.delete_key(tenant_id, &format!("fail#{endpoint_id}#{event_id}"))
            .await
            .map(|_| ())
    }
}
