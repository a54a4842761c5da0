pub mod erp;
pub mod fixture;
pub mod pg;
pub mod proxy;
