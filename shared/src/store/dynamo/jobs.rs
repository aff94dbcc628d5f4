//! The jobs table (`JOBS_TABLE`): partition key `tenant_id` (S), sort key
//! `sk` (S), so a job is only ever found by its own tenant.
//! - `job#{id}`: the job (`jobs::Job`'s fields by name; times in epoch ms,
//!   `expires_at` epoch seconds, the TTL). Ids are UUID v7: a tenant's jobs
//!   sort by creation, and `GET /jobs` reads them newest first.
//! - `part#{id}#{slot:04}`: up to `jobs::SLOT` results in request order
//!   (`entries`, a list of maps), with the same `expires_at`.
//!
//! A chunk is written ahead (`inflight`, one conditional `UpdateItem`) and
//! committed with its results part in one `TransactWriteItems`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, PutRequest, ReturnValue, TransactWriteItem, Update, WriteRequest,
};
use serde::{Deserialize, Serialize};

use super::{DynamoStore, Item, classify, is_conditional_failure, n, read, s, write};
use crate::jobs::{Job, JobEntry, JobPage, JobStatus, JobStore, SLOT, StatusChange, Tally};
use crate::store::StoreError;

fn job_key(tenant_id: &str, id: &str) -> Item {
    Item::from([
        ("tenant_id".to_string(), s(tenant_id)),
        ("sk".to_string(), s(&format!("job#{id}"))),
    ])
}

fn part_sk(id: &str, slot: u32) -> String {
    format!("part#{id}#{slot:04}")
}

#[derive(Serialize, Deserialize)]
struct JobItem {
    sk: String,
    #[serde(flatten)]
    job: Job,
}

#[derive(Serialize, Deserialize)]
struct PartItem {
    tenant_id: String,
    sk: String,
    entries: Vec<JobEntry>,
    expires_at: i64,
}

fn job_of(item: Item) -> Result<Job, StoreError> {
    Ok(read::<JobItem>("jobs", item)?.job)
}

fn value<T: Serialize>(v: &T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(v).map_err(|e| StoreError::Other(format!("jobs item: {e}")))
}

fn statuses(names: &[JobStatus]) -> (String, Vec<(String, AttributeValue)>) {
    let keys: Vec<String> = (0..names.len()).map(|i| format!(":from{i}")).collect();
    let values = keys
        .iter()
        .zip(names)
        .map(|(k, st)| (k.clone(), s(st.as_str())))
        .collect();
    (format!("#st IN ({})", keys.join(", ")), values)
}

impl DynamoStore {
    /// A results part and its job updated in one transaction; `false` when
    /// a condition refused it.
    async fn update_part_and_job(&self, part: Update, job: Update) -> Result<bool, StoreError> {
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(part).build())
            .transact_items(TransactWriteItem::builder().update(job).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_transaction_canceled_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(classify(
                &format!("TransactWriteItems {}", self.tables.jobs),
                e,
            )),
        }
    }
}

#[async_trait]
impl JobStore for DynamoStore {
    async fn create_job(&self, job: &Job, entries: &[JobEntry]) -> Result<(), StoreError> {
        let table = &self.tables.jobs;
        let mut requests = Vec::new();
        for (slot, part) in entries.chunks(SLOT as usize).enumerate() {
            let item = write(
                "jobs",
                &PartItem {
                    tenant_id: job.tenant_id.clone(),
                    sk: part_sk(&job.id, slot as u32),
                    entries: part.to_vec(),
                    expires_at: job.expires_at,
                },
            )?;
            let put = PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(|e| StoreError::Other(e.to_string()))?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        for batch in requests.chunks(25) {
            let mut pending = HashMap::from([(table.clone(), batch.to_vec())]);
            for _ in 0..8 {
                let out = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(pending))
                    .send()
                    .await
                    .map_err(|e| classify(&format!("BatchWriteItem {table}"), e))?;
                pending = out.unprocessed_items().cloned().unwrap_or_default();
                if pending.values().all(Vec::is_empty) {
                    break;
                }
            }
            if !pending.values().all(Vec::is_empty) {
                return Err(StoreError::Unavailable(
                    "BatchWriteItem: results left unprocessed".into(),
                ));
            }
        }
        // The job last: a job that exists has all of its results.
        let item = write(
            "jobs",
            &JobItem {
                sk: format!("job#{}", job.id),
                job: job.clone(),
            },
        )?;
        self.client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(sk)")
            .send()
            .await
            .map_err(|e| classify(&format!("PutItem {table}"), e))?;
        Ok(())
    }

    async fn get_job(&self, tenant_id: &str, id: &str) -> Result<Option<Job>, StoreError> {
        let table = &self.tables.jobs;
        let out = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(job_key(tenant_id, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify(&format!("GetItem {table}"), e))?;
        out.item().cloned().map(job_of).transpose()
    }

    async fn list_jobs(
        &self,
        tenant_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<JobPage, StoreError> {
        let table = &self.tables.jobs;
        let limit = limit.max(1);
        let out = self
            .client
            .query()
            .table_name(table)
            .key_condition_expression("tenant_id = :t AND begins_with(sk, :job)")
            .expression_attribute_values(":t", s(tenant_id))
            .expression_attribute_values(":job", s("job#"))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(after.map(|id| job_key(tenant_id, id)))
            .send()
            .await
            .map_err(|e| classify(&format!("Query {table}"), e))?;
        let jobs = out
            .items()
            .iter()
            .cloned()
            .map(job_of)
            .collect::<Result<Vec<_>, _>>()?;
        let next = out
            .last_evaluated_key()
            .and(jobs.last())
            .map(|j| j.id.clone());
        Ok(JobPage { jobs, next })
    }

    async fn entries(
        &self,
        tenant_id: &str,
        id: &str,
        from: u32,
        limit: u32,
    ) -> Result<Vec<JobEntry>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let table = &self.tables.jobs;
        let (first, last) = (from / SLOT, (from + limit - 1) / SLOT);
        let out = self
            .client
            .query()
            .table_name(table)
            .key_condition_expression("tenant_id = :t AND sk BETWEEN :a AND :b")
            .expression_attribute_values(":t", s(tenant_id))
            .expression_attribute_values(":a", s(&part_sk(id, first)))
            .expression_attribute_values(":b", s(&part_sk(id, last)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify(&format!("Query {table}"), e))?;
        let mut all = Vec::new();
        for item in out.items() {
            all.extend(read::<PartItem>("jobs", item.clone())?.entries);
        }
        let skip = (from - first * SLOT) as usize;
        Ok(all.into_iter().skip(skip).take(limit as usize).collect())
    }

    async fn begin_chunk(
        &self,
        tenant_id: &str,
        id: &str,
        cursor: u32,
        count: u32,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let table = &self.tables.jobs;
        let (live, values) = statuses(&JobStatus::LIVE);
        let result = self
            .client
            .update_item()
            .table_name(table)
            .set_key(Some(job_key(tenant_id, id)))
            .update_expression(
                "SET inflight = :n, #st = :running, updated_at = :now REMOVE paused_until, pause_reason",
            )
            .condition_expression(format!("#cur = :c AND inflight = :zero AND {live}"))
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#cur", "cursor")
            .set_expression_attribute_values(Some(
                values
                    .into_iter()
                    .chain([
                        (":n".to_string(), n(count.into())),
                        (":c".to_string(), n(cursor.into())),
                        (":zero".to_string(), n(0)),
                        (":now".to_string(), n(now_ms)),
                        (":running".to_string(), s(JobStatus::Running.as_str())),
                    ])
                    .collect(),
            ))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(classify(&format!("UpdateItem {table}"), e)),
        }
    }

    async fn confirm_entry(
        &self,
        tenant_id: &str,
        id: &str,
        index: u32,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let table = &self.tables.jobs;
        let at = index % SLOT;
        let part = Update::builder()
            .table_name(table)
            .key("tenant_id", s(tenant_id))
            .key("sk", s(&part_sk(id, index / SLOT)))
            .update_expression(format!("SET entries[{at}].#st = :ok"))
            .condition_expression(format!("entries[{at}].#st = :unc"))
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":ok", s("ok"))
            .expression_attribute_values(":unc", s("unconfirmed"))
            .build()
            .map_err(|e| StoreError::Other(e.to_string()))?;
        let job = Update::builder()
            .table_name(table)
            .set_key(Some(job_key(tenant_id, id)))
            .update_expression(
                "SET ok = ok + :one, unconfirmed = unconfirmed - :one, updated_at = :now",
            )
            .condition_expression("unconfirmed >= :one")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now_ms))
            .build()
            .map_err(|e| StoreError::Other(e.to_string()))?;
        self.update_part_and_job(part, job).await
    }

    async fn commit_chunk(
        &self,
        tenant_id: &str,
        id: &str,
        cursor: u32,
        entries: &[JobEntry],
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let table = &self.tables.jobs;
        let count = entries.len() as u32;
        let slot = cursor / SLOT;
        if count == 0 || (cursor + count - 1) / SLOT != slot {
            return Err(StoreError::Other(format!(
                "a chunk of {count} from {cursor} is not within one results part"
            )));
        }
        let mut sets = Vec::new();
        let mut part_values = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            let at = (cursor % SLOT) as usize + i;
            sets.push(format!("entries[{at}] = :e{i}"));
            part_values.insert(format!(":e{i}"), value(entry)?);
        }
        let part = Update::builder()
            .table_name(table)
            .key("tenant_id", s(tenant_id))
            .key("sk", s(&part_sk(id, slot)))
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression("attribute_exists(sk)")
            .set_expression_attribute_values(Some(part_values))
            .build()
            .map_err(|e| StoreError::Other(e.to_string()))?;
        let counted = Tally::of(entries);
        let job = Update::builder()
            .table_name(table)
            .set_key(Some(job_key(tenant_id, id)))
            .update_expression(
                "SET #cur = :next, inflight = :zero, updated_at = :now, ok = ok + :ok, failed = failed + :failed, unconfirmed = unconfirmed + :unc",
            )
            .condition_expression("#cur = :c AND (inflight = :count OR inflight = :zero)")
            .expression_attribute_names("#cur", "cursor")
            .set_expression_attribute_values(Some(HashMap::from([
                (":next".to_string(), n((cursor + count).into())),
                (":c".to_string(), n(cursor.into())),
                (":count".to_string(), n(count.into())),
                (":zero".to_string(), n(0)),
                (":now".to_string(), n(now_ms)),
                (":ok".to_string(), n(counted.ok.into())),
                (":failed".to_string(), n(counted.failed.into())),
                (":unc".to_string(), n(counted.unconfirmed.into())),
            ])))
            .build()
            .map_err(|e| StoreError::Other(e.to_string()))?;
        self.update_part_and_job(part, job).await
    }

    async fn set_status(
        &self,
        tenant_id: &str,
        id: &str,
        from: &[JobStatus],
        change: &StatusChange,
    ) -> Result<Option<Job>, StoreError> {
        let table = &self.tables.jobs;
        let (condition, mut values) = statuses(from);
        values.push((":to".into(), s(change.status.as_str())));
        values.push((":now".into(), n(change.now_ms)));
        let mut set = vec!["#st = :to", "updated_at = :now"];
        let mut remove = Vec::new();
        match &change.paused {
            Some((until, why)) => {
                set.extend(["paused_until = :until", "pause_reason = :why"]);
                values.push((":until".into(), n(*until)));
                values.push((":why".into(), s(why)));
            }
            None => remove.extend(["paused_until", "pause_reason"]),
        }
        if let Some(error) = &change.error {
            set.push("#err = :err");
            values.push((":err".into(), s(error)));
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression += &format!(" REMOVE {}", remove.join(", "));
        }
        let mut req = self
            .client
            .update_item()
            .table_name(table)
            .set_key(Some(job_key(tenant_id, id)))
            .update_expression(expression)
            .condition_expression(format!("attribute_exists(sk) AND {condition}"))
            .expression_attribute_names("#st", "status")
            .set_expression_attribute_values(Some(values.into_iter().collect()))
            .return_values(ReturnValue::AllNew);
        if change.error.is_some() {
            req = req.expression_attribute_names("#err", "error");
        }
        match req.send().await {
            Ok(out) => out.attributes().cloned().map(job_of).transpose(),
            Err(e) if is_conditional_failure(&e) => Ok(None),
            Err(e) => Err(classify(&format!("UpdateItem {table}"), e)),
        }
    }
}
