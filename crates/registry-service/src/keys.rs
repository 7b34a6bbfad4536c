//! API keys: who a caller is. A key is `crk_<key id>_<secret>`; the store keeps the id in the
//! clear (it names the key in lists and in the access log) and only the SHA-256 of the secret.
//! A plain hash is enough for a 256-bit random secret (nothing to brute-force); a slow password
//! hash would only slow every request.

use base64::Engine;
use registry_core::model::{FurnisherId, IdType, Timestamp};
use registry_core::report::SubjectKey;
use registry_store::governance::ApiKeyRow;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::Actor;
use crate::{Registry, ServiceError};

const KEY_PREFIX: &str = "crk_";

pub use registry_core::governance::PrincipalRole;

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub key_id: String,
    pub name: String,
    pub role: PrincipalRole,
    /// A consumer's own subject.
    pub subject: Option<SubjectKey>,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor { key_id: Some(self.key_id.clone()), name: self.name.clone(), role: self.role.as_str().into() }
    }
}

/// A key as listed: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub key_id: String,
    pub name: String,
    pub role: PrincipalRole,
    /// A consumer key's subject (registry id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

/// A new key: `key` is shown once and never stored.
#[derive(Clone, Debug, Serialize)]
pub struct CreatedKey {
    pub key: String,
    #[serde(flatten)]
    pub info: KeyInfo,
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], ServiceError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| ServiceError::Internal(format!("no randomness: {e}")))?;
    Ok(bytes)
}

fn info(row: ApiKeyRow) -> KeyInfo {
    KeyInfo {
        role: row.role,
        key_id: row.key_id,
        name: row.name,
        subject: row.subject.map(SubjectKey::registry_id),
        created_at: row.created_at,
        revoked_at: row.revoked_at,
    }
}

impl Registry {
    /// Creates a key. A furnisher key's name must be a furnisher id; a consumer key is bound to
    /// the subject with `subject` (id type and id), which the registry must know.
    pub fn create_key(&self, role: PrincipalRole, name: &str, subject: Option<(IdType, &str)>) -> Result<CreatedKey, ServiceError> {
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(ServiceError::InvalidInput("a key's name is 1 to 100 characters, none of them control characters".into()));
        }
        if role == PrincipalRole::Furnisher {
            FurnisherId::parse(name)
                .map_err(|e| ServiceError::InvalidInput(format!("a furnisher key is named by its furnisher id: {e}")))?;
        }
        let subject = match (role, subject) {
            (PrincipalRole::Consumer, Some((id_type, id))) => Some(
                self.find_subject(id_type, id)?
                    .ok_or_else(|| ServiceError::NotFound("the registry has no subject with that identifier".into()))?,
            ),
            (PrincipalRole::Consumer, None) => {
                return Err(ServiceError::InvalidInput("a consumer key needs --subject ID_TYPE:ID".into()));
            }
            (_, Some(_)) => return Err(ServiceError::InvalidInput("only a consumer key is bound to a subject".into())),
            (_, None) => None,
        };
        let key_id = hex::encode(random_bytes::<8>()?);
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
        let row = ApiKeyRow {
            key_id: key_id.clone(),
            name: name.to_owned(),
            role,
            subject,
            secret_sha256: Sha256::digest(secret.as_bytes()).into(),
            created_at: self.now(),
            revoked_at: None,
        };
        self.governance.insert_key(&row)?;
        Ok(CreatedKey { key: format!("{KEY_PREFIX}{key_id}_{secret}"), info: info(row) })
    }

    pub fn keys(&self) -> Result<Vec<KeyInfo>, ServiceError> {
        Ok(self.governance.keys()?.into_iter().map(info).collect())
    }

    /// Revokes a key at once: its next request is refused.
    pub fn revoke_key(&self, key_id: &str) -> Result<(), ServiceError> {
        if self.governance.revoke_key(key_id, self.now())? {
            return Ok(());
        }
        match self.governance.key(key_id)? {
            Some(_) => Err(ServiceError::InvalidInput(format!("key {key_id} is already revoked"))),
            None => Err(ServiceError::NotFound(format!("there is no key {key_id}"))),
        }
    }

    /// The principal a presented key belongs to; `None` for anything that is not a live key
    /// (malformed, unknown, wrong secret or revoked: the caller learns no more than that).
    pub fn authenticate(&self, presented: &str) -> Result<Option<Principal>, ServiceError> {
        let Some((key_id, secret)) = presented.strip_prefix(KEY_PREFIX).and_then(|rest| rest.split_once('_')) else {
            return Ok(None);
        };
        if key_id.len() != 16 || !key_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let Some(row) = self.governance.key(key_id)? else { return Ok(None) };
        // Comparing hashes of a 256-bit secret: an early exit reveals only how much of the hash
        // matched, which gives no way to find a matching secret.
        let presented_hash: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        if presented_hash != row.secret_sha256 || row.revoked_at.is_some() {
            return Ok(None);
        }
        Ok(Some(Principal { key_id: row.key_id, name: row.name, role: row.role, subject: row.subject }))
    }
}
