//! The audit hash chain: each row's hash covers its content and the previous row's hash,
//! so editing or deleting any row breaks every hash after it.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first row of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hashed content of one audit row, exactly as stored.
#[derive(Debug, Clone, Serialize)]
pub struct AuditContent<'a> {
    pub chain: i64,
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<i64>,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// The hash of a row given the previous row's hash (hex SHA-256 of `prev` + canonical JSON).
pub fn chain_hash(prev: &str, c: &AuditContent<'_>) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    // A tuple keeps field order fixed, so the encoding is canonical.
    let body = serde_json::to_vec(&(
        c.chain,
        c.seq,
        c.at,
        c.actor_id,
        c.actor,
        c.action,
        c.entity,
        c.entity_id,
        c.before,
        c.after,
    ))
    .unwrap_or_default();
    h.update(&body);
    hex::encode(h.finalize())
}

/// Why a chain failed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The row's `prev_hash` is not the previous row's hash (a row was removed or reordered).
    Link { id: i64 },
    /// The row's content does not match its hash (the row was edited).
    Content { id: i64 },
    /// Sequence numbers skip (a row was removed).
    Gap { id: i64 },
}

/// Incremental verifier fed rows of one chain in `seq` order.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev_hash: String,
    prev_seq: i64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            prev_hash: GENESIS.to_string(),
            prev_seq: 0,
        }
    }
}

impl ChainVerifier {
    /// Checks the next row; `id` is reported when it breaks the chain.
    pub fn check(
        &mut self,
        id: i64,
        content: &AuditContent<'_>,
        prev_hash: &str,
        hash: &str,
    ) -> Result<(), ChainBreak> {
        if content.seq != self.prev_seq + 1 {
            return Err(ChainBreak::Gap { id });
        }
        if prev_hash != self.prev_hash {
            return Err(ChainBreak::Link { id });
        }
        if chain_hash(prev_hash, content) != hash {
            return Err(ChainBreak::Content { id });
        }
        self.prev_hash = hash.to_string();
        self.prev_seq = content.seq;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, after: &str) -> AuditContent<'_> {
        AuditContent {
            chain: 1,
            seq,
            at: 1_700_000_000 + seq,
            actor_id: Some(1),
            actor: "admin",
            action: "create",
            entity: "department",
            entity_id: Some(seq),
            before: None,
            after: Some(after),
        }
    }

    #[test]
    fn intact_chain_verifies_and_edits_are_caught() {
        let a = row(1, "{\"name\":\"a\"}");
        let ha = chain_hash(GENESIS, &a);
        let b = row(2, "{\"name\":\"b\"}");
        let hb = chain_hash(&ha, &b);
        let mut v = ChainVerifier::default();
        assert!(v.check(10, &a, GENESIS, &ha).is_ok());
        assert!(v.check(11, &b, &ha, &hb).is_ok());

        let mut v = ChainVerifier::default();
        let edited = row(1, "{\"name\":\"x\"}");
        assert_eq!(
            v.check(10, &edited, GENESIS, &ha),
            Err(ChainBreak::Content { id: 10 })
        );

        let mut v = ChainVerifier::default();
        assert_eq!(v.check(11, &b, &ha, &hb), Err(ChainBreak::Gap { id: 11 }));
    }

    #[test]
    fn hash_depends_on_previous() {
        let a = row(1, "{}");
        assert_ne!(chain_hash(GENESIS, &a), chain_hash("ff", &a));
    }
}
