//! The lanes table (`LANES_TABLE`): partition key `lane` (S, the tenant and
//! its engine session, `pacing::lane_id`), sort key `class` (S). Attributes
//! (epoch milliseconds): `tat`, `paused_until`, `pause_reason`, `strikes`,
//! `last_strike`, and one daily counter `c_YYYYMMDD` (the UTC day; the
//! previous day's is removed as the next one is written).
//!
//! An acquisition is one conditional `UpdateItem` and no read: the *idle*
//! branch (`tat` absent or past: `tat = now + cost·interval`) or the *busy*
//! branch (`now < tat ≤ now + (burst − cost)·interval`: `tat += cost·interval`),
//! both also conditioned on no pause and the daily cap. The branch is chosen
//! by this process's last sight of the lane; a refusal comes back with the
//! item (`ReturnValuesOnConditionCheckFailure=ALL_OLD`), and
//! [`LaneState::acquire`] on it says whether the other branch fits or how
//! long until the request would (`Retry-After`), without another read.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::{DynamoStore, Item, classify, is_conditional_failure, n, s};
use crate::pacing::{Acquired, Ask, Class, LaneState, LaneStore, PauseReason, utc_day};
use crate::store::StoreError;

/// Races lost in a row before the store gives up (503).
const MAX_TRIES: usize = 5;

/// What this process last saw of each lane's class (`tat`), to pick the
/// branch likely to hold. Only a hint: a wrong guess costs one more write.
#[derive(Default)]
pub struct LaneHints(Mutex<HashMap<String, i64>>);

impl LaneHints {
    fn get(&self, key: &str) -> Option<i64> {
        self.0.lock().ok()?.get(key).copied()
    }

    fn set(&self, key: String, tat: i64) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(key, tat);
        }
    }
}

/// The item's key: the lane and the class.
fn key_of(lane: &str, class: Class) -> Item {
    Item::from([
        ("lane".to_string(), s(lane)),
        ("class".to_string(), s(class.as_str())),
    ])
}

fn counter(day: &str) -> String {
    format!("c_{}", day.replace('-', ""))
}

fn num(item: &Item, name: &str) -> i64 {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().unwrap_or(0),
        _ => 0,
    }
}

/// The stored item as the arithmetic's state: the latest daily counter is
/// `day`/`count`.
fn state_of(item: &Item) -> LaneState {
    let (day, count) = item
        .iter()
        .filter_map(|(k, v)| {
            let digits = k.strip_prefix("c_")?;
            let AttributeValue::N(v) = v else { return None };
            Some((digits.to_string(), v.parse::<u32>().unwrap_or(0)))
        })
        .max()
        .map(|(d, c)| {
            let day = if d.len() == 8 {
                format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])
            } else {
                d
            };
            (day, c)
        })
        .unwrap_or_default();
    LaneState {
        tat: num(item, "tat"),
        paused_until: num(item, "paused_until"),
        pause_reason: match item.get("pause_reason") {
            Some(AttributeValue::S(r)) if r == "rate_limited" => Some(PauseReason::RateLimited),
            _ => None,
        },
        strikes: num(item, "strikes") as u32,
        last_strike: num(item, "last_strike"),
        day,
        count,
    }
}

impl DynamoStore {
    /// One conditional write: the idle or the busy branch.
    async fn try_branch(
        &self,
        lane: &str,
        ask: &Ask,
        busy: bool,
    ) -> Result<Result<i64, LaneState>, StoreError> {
        let Ask {
            class,
            ref budget,
            cost,
            now_ms,
        } = *ask;
        let table = &self.tables.lanes;
        let inc = i64::from(cost) * budget.interval_ms as i64;
        let today = utc_day(now_ms);
        let yesterday = utc_day(now_ms - crate::pacing::MS_PER_DAY);
        let mut condition = String::from(if busy {
            "tat > :now AND tat <= :limit"
        } else {
            "(attribute_not_exists(tat) OR tat <= :now)"
        });
        condition += " AND (attribute_not_exists(paused_until) OR paused_until <= :now)";
        let mut req = self
            .client
            .update_item()
            .table_name(table)
            .set_key(Some(key_of(lane, class)))
            .expression_attribute_names("#c", counter(&today))
            .expression_attribute_names("#y", counter(&yesterday))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":cost", n(i64::from(cost)))
            .expression_attribute_values(":zero", n(0))
            .return_values(ReturnValue::UpdatedNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if busy {
            let limit =
                now_ms + (i64::from(budget.burst) - i64::from(cost)) * budget.interval_ms as i64;
            req = req
                .update_expression(
                    "SET tat = tat + :inc, #c = if_not_exists(#c, :zero) + :cost REMOVE #y",
                )
                .expression_attribute_values(":inc", n(inc))
                .expression_attribute_values(":limit", n(limit));
        } else {
            req = req
                .update_expression(
                    "SET tat = :tat, #c = if_not_exists(#c, :zero) + :cost REMOVE #y",
                )
                .expression_attribute_values(":tat", n(now_ms + inc));
        }
        if let Some(cap) = budget.daily {
            condition += " AND (attribute_not_exists(#c) OR #c <= :left)";
            req = req.expression_attribute_values(":left", n(i64::from(cap) - i64::from(cost)));
        }
        match req.condition_expression(condition).send().await {
            Ok(out) => {
                let tat = out
                    .attributes()
                    .map(|a| num(a, "tat"))
                    .unwrap_or(now_ms + inc);
                Ok(Ok(tat))
            }
            Err(e) if is_conditional_failure(&e) => {
                let old = e
                    .as_service_error()
                    .and_then(|se| match se {
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c) => c.item().cloned(),
                        _ => None,
                    })
                    .unwrap_or_default();
                Ok(Err(state_of(&old)))
            }
            Err(e) => Err(classify(&format!("UpdateItem {table}"), e)),
        }
    }
}

#[async_trait]
impl LaneStore for DynamoStore {
    async fn acquire(&self, lane: &str, ask: &Ask) -> Result<Acquired, StoreError> {
        let key = format!("{lane}\u{1f}{}", ask.class.as_str());
        let mut busy = self
            .lane_hints
            .get(&key)
            .is_some_and(|tat| tat > ask.now_ms);
        for _ in 0..MAX_TRIES {
            match self.try_branch(lane, ask, busy).await? {
                Ok(tat) => {
                    self.lane_hints.set(key, tat);
                    return Ok(Acquired::Granted { busy });
                }
                Err(mut seen) => {
                    self.lane_hints.set(key.clone(), seen.tat);
                    match seen.acquire(&ask.budget, ask.cost, ask.now_ms) {
                        refused @ Acquired::Refused { .. } => return Ok(refused),
                        // The other branch fits (or a race moved the item):
                        // try what the item says.
                        Acquired::Granted { busy: b } => busy = b,
                    }
                }
            }
        }
        Err(StoreError::Unavailable(format!(
            "lane {lane}/{}: {MAX_TRIES} conditional writes lost to concurrent ones",
            ask.class
        )))
    }

    async fn strike(&self, lane: &str, class: Class, now_ms: i64) -> Result<i64, StoreError> {
        let table = &self.tables.lanes;
        for _ in 0..MAX_TRIES {
            let item = self
                .client
                .get_item()
                .table_name(table)
                .set_key(Some(key_of(lane, class)))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| classify(&format!("GetItem {table}"), e))?
                .item()
                .cloned()
                .unwrap_or_default();
            let mut state = state_of(&item);
            let seen_strike = state.last_strike;
            state.strike(now_ms);
            let result = self
                .client
                .update_item()
                .table_name(table)
                .set_key(Some(key_of(lane, class)))
                .update_expression(
                    "SET paused_until = :until, pause_reason = :why, strikes = :strikes, last_strike = :now",
                )
                .condition_expression("attribute_not_exists(last_strike) OR last_strike = :seen")
                .expression_attribute_values(":until", n(state.paused_until))
                .expression_attribute_values(":why", s("rate_limited"))
                .expression_attribute_values(":strikes", n(i64::from(state.strikes)))
                .expression_attribute_values(":now", n(now_ms))
                .expression_attribute_values(":seen", n(seen_strike))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(state.paused_until),
                Err(e) if is_conditional_failure(&e) => continue,
                Err(e) => return Err(classify(&format!("UpdateItem {table}"), e)),
            }
        }
        Err(StoreError::Unavailable(format!(
            "lane {lane}/{class}: the strike kept racing"
        )))
    }

    async fn lane(&self, lane: &str) -> Result<BTreeMap<Class, LaneState>, StoreError> {
        let table = &self.tables.lanes;
        let out = self
            .client
            .query()
            .table_name(table)
            .key_condition_expression("lane = :lane")
            .expression_attribute_values(":lane", s(lane))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify(&format!("Query {table}"), e))?;
        Ok(out
            .items()
            .iter()
            .filter_map(|item| {
                let AttributeValue::S(class) = item.get("class")? else {
                    return None;
                };
                Some((Class::parse(class)?, state_of(item)))
            })
            .collect())
    }
}
