//! The audit table (`AUDIT_TABLE`): partition key `tenant_id` (S), sort key
//! `sk` (S, `{at}#{request_id}`, so a tenant's records sort by time); the
//! record's fields, `participants` as a JSON string, `expires_at` (N, TTL,
//! optional), `job_id` (S, a paced job's engine calls).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{DynamoStore, Item, classify, read, s, write};
use crate::store::{AuditParticipant, AuditRecord, AuditStore, StoreError};

#[derive(Serialize, Deserialize)]
struct AuditItem {
    tenant_id: String,
    sk: String,
    at: String,
    request_id: String,
    user_id: String,
    token_id: String,
    route: String,
    action: String,
    group_jid: String,
    /// JSON text: one attribute, whatever the number of participants.
    participants: String,
    status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    upstream_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    /// The paced job whose engine call this was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job_id: Option<String>,
}

pub(crate) fn to_item(r: &AuditRecord) -> Result<Item, StoreError> {
    let participants = serde_json::to_string(&r.participants)
        .map_err(|e| StoreError::Other(format!("encoding participants: {e}")))?;
    let item = AuditItem {
        tenant_id: r.tenant_id.clone(),
        sk: format!("{}#{}", r.at, r.request_id),
        at: r.at.clone(),
        request_id: r.request_id.clone(),
        user_id: r.user_id.clone(),
        token_id: r.token_id.clone(),
        route: r.route.clone(),
        action: r.action.clone(),
        group_jid: r.group_jid.clone(),
        participants,
        status: r.status,
        error_code: r.error_code.clone(),
        upstream_ms: r.upstream_ms,
        expires_at: r.expires_at,
        job_id: r.job_id.clone(),
    };
    write("audit", &item)
}

pub(crate) fn from_item(item: Item) -> Result<AuditRecord, StoreError> {
    let item: AuditItem = read("audit", item)?;
    let participants: Vec<AuditParticipant> = serde_json::from_str(&item.participants)
        .map_err(|e| StoreError::Corrupt(format!("participants: {e}")))?;
    Ok(AuditRecord {
        tenant_id: item.tenant_id,
        at: item.at,
        request_id: item.request_id,
        user_id: item.user_id,
        token_id: item.token_id,
        route: item.route,
        action: item.action,
        group_jid: item.group_jid,
        participants,
        status: item.status,
        error_code: item.error_code,
        upstream_ms: item.upstream_ms,
        expires_at: item.expires_at,
        job_id: item.job_id,
    })
}

#[async_trait]
impl AuditStore for DynamoStore {
    async fn put_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        self.put(&self.tables.audit, to_item(record)?).await
    }

    async fn list_audit(
        &self,
        tenant_id: &str,
        since: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut records = Vec::new();
        let mut start: Option<Item> = None;
        while records.len() < limit {
            let mut query = self
                .client
                .query()
                .table_name(&self.tables.audit)
                .expression_attribute_values(":t", s(tenant_id))
                .scan_index_forward(true)
                .limit(i32::try_from(limit - records.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            query = match since {
                Some(since) => query
                    .key_condition_expression("tenant_id = :t AND sk >= :since")
                    .expression_attribute_values(":since", s(since)),
                None => query.key_condition_expression("tenant_id = :t"),
            };
            let out = query.send().await.map_err(|e| classify("Query audit", e))?;
            for item in out.items() {
                records.push(from_item(item.clone())?);
            }
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        records.truncate(limit);
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;

    #[test]
    fn records_round_trip_in_the_documented_attributes() {
        let record = AuditRecord {
            tenant_id: "acme".into(),
            at: "2026-12-04T10:00:00.000Z".into(),
            request_id: "r1".into(),
            user_id: "u".into(),
            token_id: "tok".into(),
            route: "DELETE /groups/{jid}/participants".into(),
            action: "remove".into(),
            group_jid: "1@g.us".into(),
            participants: vec![AuditParticipant {
                jid: "5511888888888@s.whatsapp.net".into(),
                status: Some("removed".into()),
                code: None,
            }],
            status: 200,
            error_code: None,
            upstream_ms: Some(12),
            expires_at: Some(99),
            job_id: Some("job_1".into()),
        };
        let item = to_item(&record).unwrap();
        assert_eq!(item["sk"], s("2026-12-04T10:00:00.000Z#r1"));
        assert_eq!(item["status"], AttributeValue::N("200".into()));
        assert!(matches!(item["participants"], AttributeValue::S(_)));
        assert!(!item.contains_key("error_code"));
        assert_eq!(from_item(item.clone()).unwrap(), record);
        let mut odd = item;
        odd.insert("participants".into(), s("[{"));
        assert!(matches!(from_item(odd), Err(StoreError::Corrupt(_))));
    }
}
