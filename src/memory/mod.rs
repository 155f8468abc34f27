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
//! | [`service`] | [`AgentMemory`]: validation, logging, eviction, search, context, cache |
//! | [`record`] | the records and how requests become records |
//! | [`fields`] | typed reads of JSON request fields with clear 400s |
//! | [`memories`] | the columnar memory table and its exact scan |
//! | [`cache`] | the prompt cache and prompt normalisation |
//! | [`score`] | ranking and retention formulas, the vector kernel, top-K |
//! | [`persist`] | WAL records and the Lance datasets |
//! | [`stats`] | the `/api/ai/stats` document |

pub mod cache;
pub mod fields;
pub mod memories;
pub mod persist;
pub mod record;
pub mod score;
pub mod service;
pub mod stats;

pub use service::AgentMemory;
