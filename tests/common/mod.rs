pub mod central;
pub mod erp;
pub mod fixture;
pub mod fleet;
pub mod mysql;
pub mod pg;
pub mod proxy;
