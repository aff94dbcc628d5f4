//! The pacing guard (`pacing.md`): every engine call takes budget from its
//! *lane* (one WhatsApp number: the tenant and its engine session) before it
//! is sent. Each class of call (`add`, `change`, `create`, `settings`,
//! `read`) has a rate, a burst and (for the classes that change membership or
//! create) a daily cap; the rate is a GCRA over the lane's stored
//! theoretical arrival time (`tat`), kept by a [`LaneStore`] so that every
//! function and every concurrent request of the lane share it.
//!
//! This module is the arithmetic ([`LaneState::acquire`], one function both
//! stores run: the memory store directly, DynamoDB as two conditional
//! branches whose refusal it explains) and the per-request [`Guard`].

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use crate::clock::{now_ms, utc_day};
use crate::store::StoreError;

/// What a call spends budget on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Adding participants (groups, communities, a create's participants).
    Add,
    /// Removing, promoting, demoting participants.
    Change,
    /// Creating a group or community; joining one.
    Create,
    /// Any other change: properties, timer, picture, invite reset, leave,
    /// link, unlink.
    Settings,
    /// Reads: list, info, the current invite.
    Read,
}

impl Class {
    pub const ALL: [Class; 5] = [
        Self::Add,
        Self::Change,
        Self::Create,
        Self::Settings,
        Self::Read,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Change => "change",
            Self::Create => "create",
            Self::Settings => "settings",
            Self::Read => "read",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The defaults of `pacing.md`: a conservative start, not WhatsApp's
    /// (unpublished) limits.
    pub fn default_budget(self) -> Budget {
        let (interval_ms, burst, daily) = match self {
            Self::Add => (12_000, 4, Some(300)),
            Self::Change => (3_000, 8, Some(2_000)),
            Self::Create => (300_000, 2, Some(30)),
            Self::Settings => (2_000, 5, None),
            Self::Read => (1_000, 10, None),
        };
        Budget {
            interval_ms,
            burst,
            daily,
        }
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One class's budget: one unit per `interval_ms`, at most `burst` at once,
/// at most `daily` a UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub interval_ms: u64,
    pub burst: u32,
    pub daily: Option<u32>,
}

/// One class's override, as `admin tenant pacing` sets it: unset fields
/// keep the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily: Option<u32>,
}

/// A tenant's pacing settings (the tenant item's `pacing` attribute):
/// on by default, with the default budgets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pacing {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub off: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub classes: BTreeMap<Class, Override>,
}

impl Pacing {
    /// Pacing turned off: only WhatsApp's own answers limit the tenant.
    pub fn off() -> Self {
        Self {
            off: true,
            ..Self::default()
        }
    }

    /// The class's budget, the tenant's overrides applied.
    pub fn budget(&self, class: Class) -> Budget {
        let mut budget = class.default_budget();
        if let Some(o) = self.classes.get(&class) {
            budget.interval_ms = o.interval_ms.unwrap_or(budget.interval_ms).max(1);
            budget.burst = o.burst.unwrap_or(budget.burst).max(1);
            if o.daily.is_some() {
                budget.daily = o.daily;
            }
        }
        budget
    }

    /// Every class scaled for a demo: `local-api`'s embedded default (the
    /// banner says so). Intervals ÷ 10 (at most 3 s) and bursts × 3, caps
    /// as in production, so the tour of every route fits and a loop of
    /// requests still meets the guard.
    pub fn demo() -> Self {
        let classes = Class::ALL
            .into_iter()
            .map(|c| {
                let budget = c.default_budget();
                (
                    c,
                    Override {
                        interval_ms: Some((budget.interval_ms / 10).min(3_000)),
                        burst: Some(budget.burst * 3),
                        daily: None,
                    },
                )
            })
            .collect();
        Self {
            off: false,
            classes,
        }
    }

    /// The settings as JSON for `admin` and `GET /pacing`: each class's
    /// effective budget.
    pub fn describe(&self) -> serde_json::Value {
        let classes: serde_json::Map<String, serde_json::Value> = Class::ALL
            .into_iter()
            .map(|c| {
                let b = self.budget(c);
                (
                    c.as_str().to_string(),
                    serde_json::json!({
                        "interval_ms": b.interval_ms,
                        "burst": b.burst,
                        "daily_cap": b.daily,
                    }),
                )
            })
            .collect();
        serde_json::json!({ "pacing": if self.off { "off" } else { "on" }, "classes": classes })
    }
}

/// The lane of a tenant's engine session.
pub fn lane_id(tenant_id: &str, session: &str) -> String {
    if session.is_empty() {
        tenant_id.to_string()
    } else {
        format!("{tenant_id}#{session}")
    }
}

/// Why a class is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    /// The engine said WhatsApp rate-limited the number.
    RateLimited,
}

/// One lane's class as stored: every time is epoch milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaneState {
    /// The GCRA's theoretical arrival time: the class is idle when it is
    /// not after now.
    #[serde(default)]
    pub tat: i64,
    #[serde(default)]
    pub paused_until: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_reason: Option<PauseReason>,
    /// Rate-limit strikes in a row (each doubles the pause).
    #[serde(default)]
    pub strikes: u32,
    #[serde(default)]
    pub last_strike: i64,
    /// The UTC day `count` is for (`YYYY-MM-DD`).
    #[serde(default)]
    pub day: String,
    #[serde(default)]
    pub count: u32,
}

/// Why an acquisition was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The rate: the lane's burst is spent for now.
    Rate,
    /// The class is paused after WhatsApp's own limit.
    Paused,
    /// Today's cap is reached.
    DailyCap,
}

/// What an acquisition gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquired {
    /// Granted; `busy` if the class was not idle (a burst was under way).
    Granted { busy: bool },
    Refused {
        why: Refusal,
        /// How long until the same request would fit.
        retry_after_ms: u64,
    },
}

pub const MS_PER_DAY: i64 = 86_400_000;

impl LaneState {
    /// The GCRA and the daily cap: `Granted` updates `self`, `Refused`
    /// leaves it as it was. `cost` is at most the burst (a larger one can
    /// never fit: [`Guard`] answers `USE_A_JOB` before asking).
    pub fn acquire(&mut self, budget: &Budget, cost: u32, now_ms: i64) -> Acquired {
        if self.paused_until > now_ms {
            return Acquired::Refused {
                why: Refusal::Paused,
                retry_after_ms: (self.paused_until - now_ms) as u64,
            };
        }
        let today = utc_day(now_ms);
        let used_today = if self.day == today { self.count } else { 0 };
        if let Some(cap) = budget.daily
            && used_today.saturating_add(cost) > cap
        {
            let next_day = (now_ms.div_euclid(MS_PER_DAY) + 1) * MS_PER_DAY;
            return Acquired::Refused {
                why: Refusal::DailyCap,
                retry_after_ms: (next_day - now_ms) as u64,
            };
        }
        let interval = budget.interval_ms as i64;
        let busy = self.tat > now_ms;
        let new_tat = self.tat.max(now_ms) + i64::from(cost) * interval;
        let allowance = i64::from(budget.burst) * interval;
        if new_tat - now_ms > allowance {
            return Acquired::Refused {
                why: Refusal::Rate,
                retry_after_ms: (new_tat - now_ms - allowance) as u64,
            };
        }
        self.tat = new_tat;
        self.day = today;
        self.count = used_today.saturating_add(cost);
        Acquired::Granted { busy }
    }

    /// A rate-limit strike: the class pauses 60 s, doubling with each
    /// strike in a row, at most 24 h; strikes are forgotten after a clean
    /// hour (no strike since an hour after the last pause ended).
    pub fn strike(&mut self, now_ms: i64) {
        let clean_since = self.paused_until.max(self.last_strike) + 3_600_000;
        self.strikes = if self.strikes == 0 || now_ms >= clean_since {
            1
        } else {
            self.strikes.saturating_add(1)
        };
        let pause_ms = (60_000i64 << (self.strikes - 1).min(11)).min(MS_PER_DAY);
        self.paused_until = self.paused_until.max(now_ms + pause_ms);
        self.pause_reason = Some(PauseReason::RateLimited);
        self.last_strike = now_ms;
    }

    /// Units available now (what a request of that many would be granted).
    pub fn available(&self, budget: &Budget, now_ms: i64) -> u32 {
        if self.paused_until > now_ms {
            return 0;
        }
        let interval = budget.interval_ms as i64;
        let debt = (self.tat - now_ms).max(0);
        let free = (i64::from(budget.burst) * interval - debt) / interval;
        let mut free = free.clamp(0, i64::from(budget.burst)) as u32;
        if let Some(cap) = budget.daily {
            let used = if self.day == utc_day(now_ms) {
                self.count
            } else {
                0
            };
            free = free.min(cap.saturating_sub(used));
        }
        free
    }
}

/// One acquisition: `cost` units of `class`, under `budget`, at `now_ms`.
#[derive(Debug, Clone, Copy)]
pub struct Ask {
    pub class: Class,
    pub budget: Budget,
    pub cost: u32,
    pub now_ms: i64,
}

/// The lanes' store: one record per lane and class, shared by every
/// function and request of the lane.
#[async_trait]
pub trait LaneStore: Send + Sync {
    /// Takes the asked units from the lane if the budget allows.
    async fn acquire(&self, lane: &str, ask: &Ask) -> Result<Acquired, StoreError>;
    /// Records a rate-limit strike (the class pauses); the pause's end.
    async fn strike(&self, lane: &str, class: Class, now_ms: i64) -> Result<i64, StoreError>;
    /// The lane's stored classes (absent: never used).
    async fn lane(&self, lane: &str) -> Result<BTreeMap<Class, LaneState>, StoreError>;
}

/// What the guard refused, for the caller (`EngineError::Paced`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paced {
    /// `429 PACING_LIMITED`: over budget now; nothing sent.
    Limited {
        class: Class,
        why: Refusal,
        retry_after_secs: u64,
    },
    /// `422 USE_A_JOB`: more than the burst at once can never fit.
    UseAJob { class: Class, cost: u32, burst: u32 },
    /// The lanes' store failed: nothing is sent unguarded (503).
    Unavailable(String),
}

/// One request's guard: it acquires the budget of the request's first
/// engine call (or what the operation prepays for several), and strikes the
/// class when the engine reports WhatsApp's own limit.
pub struct Guard<'a> {
    store: &'a dyn LaneStore,
    lane: String,
    pacing: &'a Pacing,
    /// Whether this request has paid; later calls of it are free (a PATCH's
    /// steps are prepaid together, its refresh read is part of it).
    paid: bool,
    /// Whether the `add` class was mid-burst when this request took it (a
    /// bare 400 to an add then is WhatsApp's limit, not a bad request).
    add_busy: bool,
}

impl<'a> Guard<'a> {
    pub fn new(store: &'a dyn LaneStore, lane: String, pacing: &'a Pacing) -> Self {
        Self {
            store,
            lane,
            pacing,
            paid: false,
            add_busy: false,
        }
    }

    /// Whether the tenant has pacing on (off: the guard lets everything by
    /// and pauses nothing).
    pub fn is_on(&self) -> bool {
        !self.pacing.off
    }

    /// Acquires every `(class, cost)` unless this request already paid.
    pub async fn pay(&mut self, costs: &[(Class, u32)], now_ms: i64) -> Result<(), Paced> {
        if self.paid || !self.is_on() {
            return Ok(());
        }
        for &(class, cost) in costs {
            let budget = self.pacing.budget(class);
            if cost > budget.burst {
                return Err(Paced::UseAJob {
                    class,
                    cost,
                    burst: budget.burst,
                });
            }
        }
        for &(class, cost) in costs.iter().filter(|(_, cost)| *cost > 0) {
            let budget = self.pacing.budget(class);
            let ask = Ask {
                class,
                budget,
                cost,
                now_ms,
            };
            let got = self
                .store
                .acquire(&self.lane, &ask)
                .await
                .map_err(|e| Paced::Unavailable(e.to_string()))?;
            match got {
                Acquired::Granted { busy } => {
                    if class == Class::Add {
                        self.add_busy = busy;
                    }
                }
                Acquired::Refused {
                    why,
                    retry_after_ms,
                } => {
                    return Err(Paced::Limited {
                        class,
                        why,
                        retry_after_secs: retry_after_ms.div_ceil(1000).max(1),
                    });
                }
            }
        }
        self.paid = true;
        Ok(())
    }

    /// The lane as `GET /pacing` shows it: each class's budget, what is
    /// available now, today's count, a pause and its reason.
    pub async fn view(&self, now_ms: i64) -> Result<serde_json::Value, StoreError> {
        let stored = self.store.lane(&self.lane).await?;
        let today = utc_day(now_ms);
        // The settings' own description, each class with its state added.
        let mut view = self.pacing.describe();
        for class in Class::ALL {
            let budget = self.pacing.budget(class);
            let state = stored.get(&class).cloned().unwrap_or_default();
            let entry = &mut view["classes"][class.as_str()];
            entry["available"] = serde_json::json!(if self.is_on() {
                state.available(&budget, now_ms)
            } else {
                budget.burst
            });
            entry["today"] = serde_json::json!(if state.day == today { state.count } else { 0 });
            if state.paused_until > now_ms {
                entry["paused_until"] =
                    serde_json::json!(crate::clock::format_epoch_ms(state.paused_until));
                entry["pause_reason"] = serde_json::json!(state.pause_reason);
            }
        }
        view["lane"] = serde_json::json!(self.lane);
        Ok(view)
    }

    /// Whether the `add` class was mid-burst when this request paid.
    pub fn add_was_busy(&self) -> bool {
        self.add_busy
    }

    /// Pauses `class` after WhatsApp's own limit. A store failure is
    /// logged: the engine's answer goes back regardless.
    pub async fn strike(&self, class: Class, now_ms: i64, request_id: &str) {
        match self.store.strike(&self.lane, class, now_ms).await {
            Ok(until) => {
                tracing::warn!(request_id, lane = %self.lane, class = %class, paused_until_ms = until, "WhatsApp rate limit: the lane's class is paused");
            }
            Err(e) => {
                tracing::error!(request_id, lane = %self.lane, class = %class, error = %e, "could not pause the lane's class");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_780_000_000_000;

    #[test]
    fn gcra_grants_the_burst_then_the_rate() {
        let budget = Class::Add.default_budget();
        let mut s = LaneState::default();
        for _ in 0..4 {
            assert!(matches!(
                s.acquire(&budget, 1, T0),
                Acquired::Granted { .. }
            ));
        }
        let before = s.clone();
        assert_eq!(
            s.acquire(&budget, 1, T0),
            Acquired::Refused {
                why: Refusal::Rate,
                retry_after_ms: 12_000
            }
        );
        assert_eq!(s, before, "a refusal changes nothing");
        assert!(matches!(
            s.acquire(&budget, 1, T0 + 12_000),
            Acquired::Granted { busy: true }
        ));
        // A burst of 4 at once after a long idle.
        let mut idle = LaneState::default();
        assert_eq!(
            idle.acquire(&budget, 4, T0),
            Acquired::Granted { busy: false }
        );
        assert_eq!(idle.available(&budget, T0), 0);
        assert_eq!(idle.available(&budget, T0 + 24_000), 2);
    }

    #[test]
    fn daily_cap_and_pause() {
        let budget = Budget {
            interval_ms: 1,
            burst: 10,
            daily: Some(3),
        };
        let mut s = LaneState::default();
        assert!(matches!(
            s.acquire(&budget, 3, T0),
            Acquired::Granted { .. }
        ));
        let Acquired::Refused { why, .. } = s.acquire(&budget, 1, T0 + 1000) else {
            panic!("the cap is reached");
        };
        assert_eq!(why, Refusal::DailyCap);
        // The next UTC day starts afresh.
        let tomorrow = (T0.div_euclid(MS_PER_DAY) + 1) * MS_PER_DAY;
        assert!(matches!(
            s.acquire(&budget, 1, tomorrow),
            Acquired::Granted { .. }
        ));
        // Strikes: 60 s, then 120 s, then forgotten after a clean hour.
        let mut p = LaneState::default();
        p.strike(T0);
        assert_eq!(p.paused_until, T0 + 60_000);
        assert_eq!(
            p.acquire(&budget, 1, T0 + 1_000),
            Acquired::Refused {
                why: Refusal::Paused,
                retry_after_ms: 59_000
            }
        );
        p.strike(T0 + 70_000);
        assert_eq!(p.paused_until, T0 + 70_000 + 120_000);
        p.strike(T0 + 10 * 3_600_000);
        assert_eq!(p.strikes, 1);
        for i in 0..40 {
            p.strike(T0 + 10 * 3_600_000 + i);
        }
        assert!(p.paused_until - (T0 + 10 * 3_600_000 + 39) <= MS_PER_DAY);
        assert!(p.strikes > 11, "strikes in a row add up");
    }

    #[test]
    fn overrides_and_days() {
        let mut pacing = Pacing::default();
        pacing.classes.insert(
            Class::Add,
            Override {
                burst: Some(2),
                ..Override::default()
            },
        );
        assert_eq!(pacing.budget(Class::Add).burst, 2);
        assert_eq!(pacing.budget(Class::Add).interval_ms, 12_000);
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(lane_id("acme", ""), "acme");
        assert_eq!(lane_id("acme", "main"), "acme#main");
    }
}
