//! The MySQL side of the type catalogue: one MariaDB/MySQL table per type
//! family, each row one awkward value per column (`id` is the key, `ts` the
//! incremental cursor). Like the PostgreSQL catalogue, its size is counted
//! from the database (non-NULL cells outside `id` and `ts`).
//!
//! Three families hold values with a documented rule rather than a plain
//! round trip (docs/TYPES.md): `my_zero` (zero dates: the row is rejected
//! with its reason), `my_flag` (a `TINYINT(1)` holding neither 0 nor 1: the
//! row is rejected) and `my_nul` (NUL in text and `\u0000` in JSON, which
//! PostgreSQL cannot store: the table fails there, naming the value).

/// `(table, table options, columns, rows)`: columns as `name type`, rows as
/// SQL value lists in column order.
pub const MY_FAMILIES: &[(&str, &str, &str, &[&str])] = &[
    (
        "my_int",
        "",
        "c_tiny TINYINT, c_small SMALLINT, c_medium MEDIUMINT, c_int INT, c_big BIGINT, \
         c_utiny TINYINT UNSIGNED, c_uint INT UNSIGNED, c_ubig BIGINT UNSIGNED",
        &[
            "-128, -32768, -8388608, -2147483648, -9223372036854775808, 0, 0, 0",
            "127, 32767, 8388607, 2147483647, 9223372036854775807, 255, 4294967295, 18446744073709551615",
            "0, 0, 0, 0, 0, 1, 1, 9223372036854775808",
            "-1, -1, -1, -1, -1, NULL, NULL, 1",
        ],
    ),
    (
        "my_bool",
        "",
        "c_flag TINYINT(1), c_boolean BOOLEAN",
        &["0, 0", "1, 1", "1, NULL"],
    ),
    (
        "my_decimal",
        "",
        "c_d65 DECIMAL(65,30), c_d10 DECIMAL(10,2), c_d65_0 DECIMAL(65,0)",
        &[
            "'99999999999999999999999999999999999.999999999999999999999999999999', \
             '99999999.99', '99999999999999999999999999999999999999999999999999999999999999999'",
            "'-99999999999999999999999999999999999.999999999999999999999999999999', \
             '-0.01', '-99999999999999999999999999999999999999999999999999999999999999999'",
            "'0.000000000000000000000000000001', '0.00', '0'",
            "'-0.000000000000000000000000000001', '12.50', '1'",
        ],
    ),
    (
        "my_float",
        "",
        "c_float FLOAT, c_double DOUBLE",
        &[
            "0.1, 0.1",
            "-0.0, -0.0",
            "3.40282e38, 1.7976931348623157e308",
            "-3.40282e38, -1.7976931348623157e308",
            "1.17549e-38, 2.2250738585072014e-308",
            "1, 123456789.123456789",
            // Stored as 123.456787109375 and 16777216, printed by the text
            // protocol as 123.457 and 16777200.
            "123.456789, 0.30000000000000004",
            "16777217, 4.9e-324",
        ],
    ),
    (
        "my_bit",
        "",
        "c_bit1 BIT(1), c_bit8 BIT(8), c_bit64 BIT(64)",
        &[
            "b'0', b'0', b'0'",
            "b'1', b'11111111', b'1111111111111111111111111111111111111111111111111111111111111111'",
            "b'1', b'10100101', b'1000000000000000000000000000000000000000000000000000000000000001'",
        ],
    ),
    (
        "my_year_time",
        "",
        "c_year YEAR, c_time TIME, c_time6 TIME(6)",
        &[
            "1901, '-838:59:59', '-838:59:59.000000'",
            "2155, '838:59:59', '838:59:59.000000'",
            "0, '00:00:00', '-00:00:00.000001'",
            "2024, '24:00:00', '12:34:56.789012'",
        ],
    ),
    (
        "my_temporal",
        "",
        "c_date DATE, c_dt DATETIME, c_dt6 DATETIME(6), c_ts6 TIMESTAMP(6) NULL",
        &[
            "'1000-01-01', '1000-01-01 00:00:00', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01.000000'",
            "'9999-12-31', '9999-12-31 23:59:59', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999'",
            "'2024-02-29', '2024-02-29 12:34:56', '2024-02-29 12:34:56.000001', '2024-02-29 12:34:56.000001'",
            // Written in the session time zone +05:45: stored (and read) as
            // 2023-12-31 18:15 UTC.
            "'2024-01-01', '2024-01-01 00:00:00', '2024-01-01 00:00:00.500000', TZ545",
        ],
    ),
    (
        "my_text",
        "DEFAULT CHARSET=utf8mb4",
        "c_varchar VARCHAR(10), c_char CHAR(5), c_text TEXT, c_long LONGTEXT",
        &[
            "'', '', '', ''",
            "' trailing ', 'ab  ', 'tab\\there\\nnew\\rline \\\\ back', 'ü✓𝄞 and 中文'",
            "'ü✓𝄞', 'abcde', '\\\\N', REPEAT('long ✓ ', 20000)",
            "'\\'q\\' \"d\"', ' ', 'NULL', '\\\\'",
        ],
    ),
    (
        "my_latin1",
        "DEFAULT CHARSET=latin1",
        "c_varchar VARCHAR(20), c_char CHAR(4), c_text TEXT",
        &[
            "'café', 'ÿþ', 'naïve façade'",
            "'€ 5', 'Ø', 'Grüße, Ærø'",
            "'', '', ''",
        ],
    ),
    (
        "my_enum_set",
        "",
        "c_enum ENUM('a', 'b c', 'ünï \"q\"', 'x,y'), c_set SET('x', 'y', 'z z')",
        &[
            "'a', ''",
            "'b c', 'x,z z'",
            "'ünï \"q\"', 'x,y,z z'",
            "'x,y', 'y'",
        ],
    ),
    (
        "my_json",
        "",
        "c_json JSON",
        &[
            r#"'{"b": 1, "a": [1, 2.50, null]}'"#,
            r#"'"\\u00e9\\ud83d\\ude00 \\"q\\" \\\\"'"#,
            "'[]'",
            "'null'",
            "'123456789012345678901234567890.000000001'",
            r#"'{"nested": {"deep": [{"x": "tab\\there"}]}}'"#,
        ],
    ),
    (
        "my_blob",
        "",
        "c_blob BLOB, c_varbinary VARBINARY(16), c_binary BINARY(4), c_long LONGBLOB",
        &[
            "'', '', 'ab', ''",
            "X'00ff5c0a09', X'00', X'00000000', X'27225c00'",
            "'text', X'ffffffffffffffffffffffffffffffff', X'ffffffff', REPEAT(X'00ff10e2889a5c0a', 131072)",
        ],
    ),
    (
        "my_zero",
        "",
        "c_date DATE, c_dt DATETIME, c_ts TIMESTAMP NULL",
        &[
            "'2024-01-01', '2024-01-01 00:00:00', '2024-01-01 00:00:00'",
            "'0000-00-00', '2024-01-01 00:00:00', NULL",
            "'2024-00-10', NULL, NULL",
            "'2024-01-01', '2024-03-00 10:00:00', NULL",
            "NULL, NULL, '0000-00-00 00:00:00'",
            "'2024-12-31', NULL, NULL",
        ],
    ),
    ("my_flag", "", "c_flag TINYINT(1)", &["1", "2", "-1", "0"]),
    (
        "my_nul",
        "",
        "c_text TEXT, c_json JSON",
        &[r#"'a\0b', '{"a": "x\\u0000y"}'"#, "'plain', '{}'"],
    ),
];

/// Families whose rows with a documented rule are rejected at the branch:
/// `(table, ids rejected, what the reason says)`.
pub const MY_REJECTS: &[(&str, &[i64], &str)] = &[
    ("my_zero", &[2, 3, 4, 5], "zero date"),
    ("my_flag", &[2, 3], "TINYINT(1)"),
];

/// The DDL and rows of every family, written in strict mode (which lets
/// zero dates in unless `NO_ZERO_DATE` is set); the `TZ545` value is
/// written in the session time zone `+05:45`.
pub fn sql() -> String {
    let mut s = "SET SESSION sql_mode = 'STRICT_ALL_TABLES';\n".to_owned();
    for (table, options, columns, rows) in MY_FAMILIES {
        s += &format!(
            "CREATE TABLE {table} (id INT PRIMARY KEY, ts DATETIME NOT NULL, {columns}) {options};\n"
        );
        for (i, row) in rows.iter().enumerate() {
            let zoned = row.contains("TZ545");
            let row = row.replace("TZ545", "TIMESTAMP'2024-01-01 00:00:00'");
            let insert = format!(
                "INSERT INTO {table} VALUES ({}, TIMESTAMP'2024-01-01 00:00:00' + INTERVAL {i} HOUR, {row});\n",
                i + 1
            );
            if zoned {
                s += &format!("SET time_zone = '+05:45';\n{insert}SET time_zone = '+00:00';\n");
            } else {
                s += &insert;
            }
        }
    }
    s
}
