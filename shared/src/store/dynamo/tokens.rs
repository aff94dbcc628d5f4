//! The tokens table (`TOKENS_TABLE`): partition key `token_hash` (S);
//! `token_id`, `tenant_id`, `user_id`, `status`, `created_at` (N), optional
//! `expires_at` (N, the TTL attribute) and `scopes` (SS); GSI `by_tenant`
//! (`tenant_id` S, `created_at` N) for listings.

use async_trait::async_trait;
use serde::{Deserialize, Serialize, Serializer};

use super::{DynamoStore, Item, classify, is_conditional_failure, read, s, write};
use crate::scope::Scope;
use crate::store::{StoreError, TokenRecord, TokenStatus, TokenStore};

pub const TOKENS_BY_TENANT_INDEX: &str = "by_tenant";
pub const TOKENS_TTL_ATTRIBUTE: &str = "expires_at";

/// A token item as stored. `token_id` and `scopes` came after the documented
/// data model: absent, they read as the derived id and every scope.
#[derive(Serialize, Deserialize)]
struct TokenItem {
    token_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_id: Option<String>,
    tenant_id: String,
    user_id: String,
    status: String,
    #[serde(default)]
    created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    /// Written as a string set; a list is read too.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "string_set"
    )]
    scopes: Option<Vec<String>>,
}

fn string_set<S: Serializer>(
    value: &Option<Vec<String>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(names) => serde_dynamo::string_set::serialize(names, serializer),
        None => serializer.serialize_none(),
    }
}

impl From<&TokenRecord> for TokenItem {
    fn from(t: &TokenRecord) -> Self {
        Self {
            token_hash: t.token_hash.clone(),
            token_id: Some(t.token_id.clone()),
            tenant_id: t.tenant_id.clone(),
            user_id: t.user_id.clone(),
            status: t.status.as_str().into(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            // An empty set cannot be stored: no scopes is every scope.
            scopes: t
                .scopes
                .as_ref()
                .filter(|s| !s.is_empty())
                .map(|s| s.iter().map(|s| s.as_str().to_string()).collect()),
        }
    }
}

impl TryFrom<TokenItem> for TokenRecord {
    type Error = StoreError;

    fn try_from(item: TokenItem) -> Result<Self, StoreError> {
        let scopes = match item.scopes {
            None => None,
            Some(names) => {
                let mut scopes = names
                    .iter()
                    .map(|name| {
                        Scope::parse(name)
                            .ok_or_else(|| StoreError::Corrupt(format!("unknown scope {name:?}")))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                scopes.sort();
                Some(scopes)
            }
        };
        Ok(TokenRecord {
            token_id: item
                .token_id
                .unwrap_or_else(|| TokenRecord::derived_token_id(&item.token_hash)),
            status: TokenStatus::parse(&item.status).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown token status {:?}", item.status))
            })?,
            token_hash: item.token_hash,
            tenant_id: item.tenant_id,
            user_id: item.user_id,
            expires_at: item.expires_at,
            created_at: item.created_at,
            scopes,
        })
    }
}

pub(crate) fn to_item(record: &TokenRecord) -> Result<Item, StoreError> {
    write("tokens", &TokenItem::from(record))
}

pub(crate) fn from_item(item: Item) -> Result<TokenRecord, StoreError> {
    read::<TokenItem>("tokens", item)?.try_into()
}

#[async_trait]
impl TokenStore for DynamoStore {
    async fn get_token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.get(&self.tables.tokens, "token_hash", token_hash, false)
            .await?
            .map(from_item)
            .transpose()
    }

    async fn put_token(&self, record: &TokenRecord) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.tokens)
            .set_item(Some(to_item(record)?))
            .condition_expression("attribute_not_exists(token_hash)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => {
                Err(StoreError::Other("token already exists".into()))
            }
            Err(e) => Err(classify("PutItem tokens", e)),
        }
    }

    async fn revoke_token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let revoked = TokenStatus::Revoked.as_str();
        self.set_status(&self.tables.tokens, "token_hash", token_hash, revoked)
            .await?
            .map(from_item)
            .transpose()
    }

    async fn list_tokens(&self, tenant_id: &str) -> Result<Vec<TokenRecord>, StoreError> {
        let mut tokens = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.tables.tokens)
                .index_name(TOKENS_BY_TENANT_INDEX)
                .key_condition_expression("tenant_id = :t")
                .expression_attribute_values(":t", s(tenant_id))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("Query tokens", e))?;
            for item in out.items() {
                tokens.push(from_item(item.clone())?);
            }
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => break,
            }
        }
        tokens.sort_by(|a, b| (a.created_at, &a.token_id).cmp(&(b.created_at, &b.token_id)));
        Ok(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;

    fn token() -> TokenRecord {
        TokenRecord {
            token_hash: "h".into(),
            token_id: "id".into(),
            tenant_id: "t".into(),
            user_id: "u".into(),
            status: TokenStatus::Active,
            expires_at: Some(5),
            created_at: 1,
            scopes: Some(vec![Scope::GroupsRead]),
        }
    }

    #[test]
    fn items_round_trip_in_the_documented_attributes() {
        let item = to_item(&token()).unwrap();
        assert_eq!(item["token_hash"], s("h"));
        assert_eq!(item["created_at"], AttributeValue::N("1".into()));
        assert_eq!(item[TOKENS_TTL_ATTRIBUTE], AttributeValue::N("5".into()));
        assert_eq!(
            item["scopes"],
            AttributeValue::Ss(vec!["groups:read".into()])
        );
        assert_eq!(from_item(item).unwrap(), token());
        // The documented data model: no token_id, no scopes; and a list of
        // scopes reads as well as a set.
        let mut legacy = to_item(&TokenRecord {
            scopes: None,
            expires_at: None,
            ..token()
        })
        .unwrap();
        assert!(!legacy.contains_key("scopes") && !legacy.contains_key("expires_at"));
        legacy.remove("token_id");
        let read = from_item(legacy.clone()).unwrap();
        assert_eq!(read.token_id, TokenRecord::derived_token_id("h"));
        assert_eq!(read.scopes, None);
        legacy.insert(
            "scopes".into(),
            AttributeValue::L(vec![s("groups:write"), s("groups:read")]),
        );
        assert_eq!(
            from_item(legacy).unwrap().scopes,
            Some(vec![Scope::GroupsRead, Scope::GroupsWrite])
        );
    }

    #[test]
    fn corrupt_items_are_errors_not_panics() {
        let mut item = to_item(&TokenRecord {
            scopes: None,
            ..token()
        })
        .unwrap();
        item.insert(
            "scopes".into(),
            AttributeValue::Ss(vec!["groups:admin".into()]),
        );
        assert!(matches!(
            from_item(item.clone()),
            Err(StoreError::Corrupt(_))
        ));
        item.remove("scopes");
        item.insert("status".into(), s("weird"));
        assert!(matches!(
            from_item(item.clone()),
            Err(StoreError::Corrupt(_))
        ));
        item.insert("status".into(), AttributeValue::N("1".into()));
        assert!(matches!(
            from_item(item.clone()),
            Err(StoreError::Corrupt(_))
        ));
        item.remove("status");
        assert!(matches!(from_item(item), Err(StoreError::Corrupt(_))));
    }
}
