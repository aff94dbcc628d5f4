//! The tenants table (`TENANTS_TABLE`): partition key `tenant_id` (S);
//! `status`, `name`, `engine` (absent: the default engine,
//! session-service), `wuts_base_url`, `wuts_session_id`, `wuts_api_key`
//! (the names from when WUTS was the only engine; no migration), `pacing`
//! (a map, absent for the defaults: `{off?, classes?: {add: {interval_ms?,
//! burst?, daily?}, …}}`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{DynamoStore, Item, read, write};
use crate::engine::EngineKind;
use crate::pacing::Pacing;
use crate::store::{StoreError, Tenant, TenantStatus, TenantStore};

#[derive(Serialize, Deserialize)]
struct TenantItem {
    tenant_id: String,
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// Absent for the default engine: records written before engines
    /// existed read as they always did, and such tenants are written the
    /// same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wuts_base_url: Option<String>,
    wuts_session_id: String,
    wuts_api_key: String,
    /// Absent: pacing on with the default budgets.
    #[serde(default, skip_serializing_if = "is_default")]
    pacing: Pacing,
}

fn is_default(p: &Pacing) -> bool {
    *p == Pacing::default()
}

pub(crate) fn to_item(t: &Tenant) -> Result<Item, StoreError> {
    let item = TenantItem {
        tenant_id: t.tenant_id.clone(),
        status: t.status.as_str().into(),
        name: t.name.clone(),
        engine: (t.engine != EngineKind::default()).then(|| t.engine.as_str().into()),
        wuts_base_url: t.wuts_base_url.clone(),
        wuts_session_id: t.wuts_session_id.clone(),
        wuts_api_key: t.wuts_api_key.clone(),
        pacing: t.pacing.clone(),
    };
    write("tenants", &item)
}

pub(crate) fn from_item(item: Item) -> Result<Tenant, StoreError> {
    let item: TenantItem = read("tenants", item)?;
    Ok(Tenant {
        status: TenantStatus::parse(&item.status).ok_or_else(|| {
            StoreError::Corrupt(format!("unknown tenant status {:?}", item.status))
        })?,
        engine: match item.engine {
            None => EngineKind::default(),
            Some(name) => EngineKind::parse(&name)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown engine {name:?}")))?,
        },
        tenant_id: item.tenant_id,
        name: item.name,
        wuts_base_url: item.wuts_base_url,
        wuts_session_id: item.wuts_session_id,
        wuts_api_key: item.wuts_api_key,
        pacing: item.pacing,
    })
}

#[async_trait]
impl TenantStore for DynamoStore {
    async fn get_tenant(&self, tenant_id: &str) -> Result<Option<Tenant>, StoreError> {
        self.get(&self.tables.tenants, "tenant_id", tenant_id, false)
            .await?
            .map(from_item)
            .transpose()
    }

    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        self.put(&self.tables.tenants, to_item(tenant)?).await
    }

    async fn set_tenant_status(
        &self,
        tenant_id: &str,
        status: TenantStatus,
    ) -> Result<Option<Tenant>, StoreError> {
        self.set_status(
            &self.tables.tenants,
            "tenant_id",
            tenant_id,
            status.as_str(),
        )
        .await?
        .map(from_item)
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::dynamo::s;

    #[test]
    fn items_round_trip_and_the_default_engine_is_not_written() {
        let tenant = Tenant {
            tenant_id: "t".into(),
            status: TenantStatus::Suspended,
            name: None,
            engine: EngineKind::default(),
            wuts_base_url: Some("https://w".into()),
            wuts_session_id: "s".into(),
            wuts_api_key: "k".into(),
            pacing: Pacing::default(),
        };
        let item = to_item(&tenant).unwrap();
        assert!(!item.contains_key("engine"), "the default engine");
        assert!(!item.contains_key("pacing"), "the default pacing");
        let mut paced = tenant.clone();
        paced.pacing.off = true;
        paced.pacing.classes.insert(
            crate::pacing::Class::Add,
            crate::pacing::Override {
                burst: Some(2),
                ..Default::default()
            },
        );
        assert_eq!(from_item(to_item(&paced).unwrap()).unwrap(), paced);
        assert!(!item.contains_key("name"));
        assert_eq!(item["wuts_api_key"], s("k"));
        assert_eq!(from_item(item).unwrap(), tenant);
        for engine in EngineKind::ALL {
            let t = Tenant {
                engine,
                ..tenant.clone()
            };
            let item = to_item(&t).unwrap();
            assert_eq!(item.contains_key("engine"), engine != EngineKind::default());
            assert_eq!(from_item(item).unwrap(), t);
        }
        let mut odd = to_item(&tenant).unwrap();
        odd.insert("engine".into(), s("baileys"));
        assert!(matches!(from_item(odd), Err(StoreError::Corrupt(_))));
        let mut missing = to_item(&tenant).unwrap();
        missing.remove("wuts_api_key");
        assert!(matches!(from_item(missing), Err(StoreError::Corrupt(_))));
    }
}
