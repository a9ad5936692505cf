use std::sync::{Arc, OnceLock};

use drgdip_scheme::{DirFiles, Registry, Scheme};

pub fn schemes() -> &'static (Arc<Scheme>, Arc<Scheme>) {
    static S: OnceLock<(Arc<Scheme>, Arc<Scheme>)> = OnceLock::new();
    S.get_or_init(|| {
        let dir = std::env::var("DRGDIP_SHARED").unwrap_or_else(|_| "../../shared".into());
        let files = DirFiles::new(dir).expect("set DRGDIP_SHARED");
        let mut r = Registry::new(&files).expect("registry");
        (r.get("chs-drg-2.0").unwrap(), r.get("fujian-2024").unwrap())
    })
}
