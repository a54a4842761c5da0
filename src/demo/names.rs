//! The vocabulary of the generated branches: office codes and the names that
//! fill products and business partners. Unicode and both kinds of quotes are
//! here on purpose, so the demo exercises what real ERP data throws at a copy.

/// Branch office codes: `sqlite_<code>` is the connection name. The first is
/// the head office, whose `ad_org` is the single-source table.
pub const BRANCH_CODES: &[&str] = &[
    "lmp", "sby", "bdg", "jkt", "smg", "mdn", "mks", "dps", "plm", "pku", "bpn", "pnk", "mnd",
    "yog", "slo", "mlg", "btm",
];

/// City names for the organizations of each branch, in `BRANCH_CODES` order.
pub const BRANCH_CITIES: &[&str] = &[
    "Lampung",
    "Surabaya",
    "Bandung",
    "Jakarta",
    "Semarang",
    "Medan",
    "Makassar",
    "Denpasar",
    "Palembang",
    "Pekanbaru",
    "Balikpapan",
    "Pontianak",
    "Manado",
    "Yogyakarta",
    "Solo",
    "Malang",
    "Batam",
];

/// Organizations of one branch (ad_org), after the city name.
pub const ORG_KINDS: &[&str] = &["Head Office", "Warehouse", "Store \"Pusat\"", "Store Ümbul"];

pub const PRODUCTS: &[&str] = &[
    "Kopi Arabika Gayo",
    "Teh Melati",
    "Beras Pandan Wangi",
    "Minyak Goreng",
    "Café au lait",
    "Gula Aren",
    "Sambal \"Pedas\" Level 5",
    "Kecap Manis",
    "Mie Instan Rasa Soto",
    "Crème brûlée mix",
    "Cokelat 70% Dark",
    "Garam Laut",
    "Tepung Terigu",
    "Saus Tomat",
    "Susu UHT",
    "Ñame chips",
    "Ikan Asin 'Jambal Roti'",
    "Jus Jeruk 🍊",
    "抹茶 Matcha",
    "Keripik Singkong",
];

pub const SIZES: &[&str] = &["250g", "500g", "1kg", "5kg", "1L", "2L", "12 × 330ml"];

pub const PARTNER_PREFIXES: &[&str] = &["PT", "CV", "UD", "Toko", "Koperasi"];

pub const PARTNERS: &[&str] = &[
    "Sinar Jaya",
    "Maju Bersama",
    "O'Brien & Sons",
    "Sumber Rejeki",
    "Ünal Trading",
    "Đông Á",
    "\"Berkah\" Abadi",
    "Mitra Sejati",
    "Jaya Makmur",
    "Søren Import",
    "Tōkyō Foods",
    "Cahaya Baru",
];

/// Descriptions that show up in some rows (the others are NULL).
pub const NOTES: &[&str] = &[
    "Kirim sebelum jam 10",
    "Pembayaran 30 hari",
    "Hubungi Pak Budi",
    "Barang titipan — jangan dibuka",
    "Retur sebagian",
    "Harga khusus \"promo\"",
    "Cek ulang qty",
];
