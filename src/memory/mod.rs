//! Agent Memory: working memory for AI agents (memories ranked by similarity, importance,
//! pinning, recency and use) and an LLM prompt cache, served under `/api/ai/*`.
//!
//! The live state is in memory ([`memories`], [`cache`]) and answers every request; each change
//! is first appended to a WAL ([`persist::log`]) and later committed, in batches, to two Lance
//! datasets on the configured object store ([`persist`]), which other tools (`pylance`,
//! LanceDB) can read. At start the datasets are loaded and the WAL replayed on top.
//!
//! | module | what it holds |
//! |---|---|
//! | [`service`] | [`AgentMemory`]: logging, eviction, stores, deletes, cache lookups |
//! | `search` | search and context: the vector index's answer, kept when provably exact |
//! | [`ivf`] | the in-memory IVF index: k-means centroids, partition lists kept with the rows |
//! | [`ann`] | when the index is built, trained, assigned; its settings and figures |
//! | [`query`] | searches and lookups (checked when built) and their results |
//! | [`record`] | the records and how requests become records |
//! | [`scope`] | tenant, namespace, user, session, agent and type, defined once |
//! | [`memories`] | the columnar memory table and its exact scan |
//! | [`parallel`] | splitting work on table rows over every core |
//! | [`cache`] | the prompt cache and prompt normalisation |
//! | [`score`] | ranking and retention formulas, the vector kernel, top-K |
//! | [`persist`] | WAL records and the Lance datasets |
//! | [`stats`] | the `/api/ai/stats` document |
//! | [`settings`] | plain settings the server resolves its flags into |
//! | [`error`] | what Agent Memory fails with, protocol-neutral |

pub mod ann;
pub mod cache;
pub mod codes;
pub mod error;
pub mod ivf;
pub mod memories;
pub mod parallel;
pub mod persist;
pub mod query;
pub mod record;
pub mod scope;
pub mod score;
mod search;
pub mod service;
pub mod settings;
pub mod stats;

use std::sync::Arc;

pub use error::{Error, Result};
pub use service::AgentMemory;
pub use settings::Settings;

/// Opens Agent Memory as `settings` say: persisted (datasets loaded, WAL replayed) or in memory
/// only.
pub async fn open(settings: &Settings) -> Result<Arc<AgentMemory>> {
    let memory = match &settings.storage {
        Some(storage) => Arc::new(persist::open(storage, settings.limits, settings.ann).await?),
        None => {
            tracing::info!("agent memory in memory only (no --agent-memory-dir and no HDB)");
            Arc::new(AgentMemory::with_ann(settings.limits, settings.ann))
        }
    };
    ann::spawn_maintainer(&memory);
    Ok(memory)
}
