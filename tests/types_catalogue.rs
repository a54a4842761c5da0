//! Schema fidelity (docs/TYPES.md), end to end through the real
//! binary: the type catalogue (one table per type family, awkward values in
//! each) in every driver pair and mode, the shapes real schemas have, and the
//! reported case of identical branches with a domain and an enum.

mod common;

#[path = "types_catalogue/catalogue.rs"]
mod catalogue;
#[path = "types_catalogue/domains.rs"]
mod domains;
#[path = "types_catalogue/families.rs"]
mod families;
#[path = "types_catalogue/from_mysql.rs"]
mod from_mysql;
#[path = "types_catalogue/identical.rs"]
mod identical;
#[path = "types_catalogue/my.rs"]
mod my;
#[path = "types_catalogue/my_families.rs"]
mod my_families;
#[path = "types_catalogue/my_meaning.rs"]
mod my_meaning;
#[path = "types_catalogue/shapes.rs"]
mod shapes;
#[path = "types_catalogue/to_mysql.rs"]
mod to_mysql;
#[path = "types_catalogue/world.rs"]
mod world;
