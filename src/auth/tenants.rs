//! Tenants registered at start (`--tenant id:namespace[:max_concurrent_queries]`): the table
//! namespace each may touch and how many statements it may run at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::error::Error;
use super::identity::TenantBinding;

/// One tenant.
#[derive(Debug)]
pub struct Tenant {
    /// Its id (the key's or token's `tenant_id`, or the open-mode header).
    pub id: String,
    /// The prefix of every table it may touch; empty: every table.
    pub namespace: String,
    /// Statements it may run at once (`None`: no limit).
    pub max_concurrent_queries: Option<usize>,
    running: AtomicUsize,
}

impl Tenant {
    /// Whether `table` is inside the tenant's namespace.
    pub fn owns(&self, table: &str) -> bool {
        table.starts_with(&self.namespace)
    }

    /// Statements running now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Relaxed)
    }

    /// A slot for one statement, or [`Error::TenantBusy`] when every slot is taken.
    pub fn acquire(self: &Arc<Self>) -> Result<Option<TenantSlot>, Error> {
        let Some(max) = self.max_concurrent_queries else {
            return Ok(None);
        };
        self.running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .map_err(|_| Error::TenantBusy)?;
        Ok(Some(TenantSlot(Arc::clone(self))))
    }
}

/// A running statement's claim on its tenant's limit; dropping it frees the slot.
#[derive(Debug)]
pub struct TenantSlot(Arc<Tenant>);

impl Drop for TenantSlot {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Every tenant, by id.
#[derive(Debug, Default)]
pub struct Tenants {
    by_id: HashMap<String, Arc<Tenant>>,
}

impl Tenants {
    /// The tenants of `--tenant` values; a malformed or repeated one is an error naming it.
    pub fn parse(specs: &[String]) -> Result<Self, String> {
        let mut by_id = HashMap::new();
        for spec in specs {
            let mut parts = spec.splitn(3, ':');
            let id = parts.next().unwrap_or_default();
            let Some(namespace) = parts.next() else {
                return Err(format!(
                    "--tenant {spec}: expected id:namespace[:max_concurrent_queries]"
                ));
            };
            if id.is_empty() || id.chars().any(|c| c.is_control() || c == ',') {
                return Err(format!(
                    "--tenant {spec}: the tenant id must be a plain name"
                ));
            }
            let max_concurrent_queries = match parts.next() {
                None => None,
                Some(n) => Some(n.parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(|| {
                    format!("--tenant {spec}: max_concurrent_queries must be a positive integer")
                })?),
            };
            let tenant = Tenant {
                id: id.to_string(),
                namespace: namespace.to_string(),
                max_concurrent_queries,
                running: AtomicUsize::new(0),
            };
            if by_id.insert(id.to_string(), Arc::new(tenant)).is_some() {
                return Err(format!("--tenant {id} is given twice"));
            }
        }
        Ok(Tenants { by_id })
    }

    /// The binding of a request acting for `tenant`.
    pub fn bind(&self, tenant: Option<&str>) -> TenantBinding {
        match tenant {
            None => TenantBinding::None,
            Some(id) => match self.by_id.get(id) {
                Some(t) => TenantBinding::Registered(Arc::clone(t)),
                None => TenantBinding::Unregistered(id.to_string()),
            },
        }
    }

    /// How many tenants there are.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let t = Tenants::parse(&["deska:deska_".into(), "open:".into(), "b:b_:2".into()]).unwrap();
        assert_eq!(t.len(), 3);
        let TenantBinding::Registered(open) = t.bind(Some("open")) else {
            panic!("open is registered")
        };
        assert!(open.owns("anything"));
        assert!(matches!(
            t.bind(Some("zzz")),
            TenantBinding::Unregistered(_)
        ));
        assert!(matches!(t.bind(None), TenantBinding::None));
        for bad in ["nocolon", ":x_", "a:b:0", "a:b:x"] {
            assert!(Tenants::parse(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(Tenants::parse(&["a:x".into(), "a:y".into()]).is_err());
    }

    #[test]
    fn slots_are_bounded_and_returned() {
        let t = Tenants::parse(&["b:b_:2".into()]).unwrap();
        let TenantBinding::Registered(b) = t.bind(Some("b")) else {
            panic!()
        };
        let one = b.acquire().unwrap();
        let two = b.acquire().unwrap();
        assert!(matches!(b.acquire(), Err(Error::TenantBusy)));
        drop(one);
        assert_eq!(b.running(), 1);
        let three = b.acquire().unwrap();
        drop((two, three));
        assert_eq!(b.running(), 0);
    }
}
