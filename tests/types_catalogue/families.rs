//! The type catalogue: one PostgreSQL table per type family, each row one
//! awkward value per column (`id` is the key, `ts` the incremental cursor).
//! Its size is counted from the database (non-NULL cells outside `id` and
//! `ts`), so it cannot drift from what the tests check.

/// Types the families use that the database must make first.
pub const TYPES: &str = r#"
CREATE TYPE mood AS ENUM ('sad', 'ok', 'so so', 'ünï "q"');
CREATE DOMAIN year AS integer CHECK (VALUE > 0);
CREATE DOMAIN code AS varchar(10);
CREATE DOMAIN price AS numeric(8,2) NOT NULL;
CREATE DOMAIN nested AS year;
CREATE TYPE addr AS (street text, no integer, tags text[]);
"#;

/// `(table, columns, rows)`: columns as `name type`, rows as SQL value
/// lists in column order.
pub const FAMILIES: &[(&str, &str, &[&str])] = &[
    (
        "cat_int",
        "c_int2 smallint, c_int4 integer, c_int8 bigint, c_oid oid",
        &[
            "-32768, -2147483648, -9223372036854775808, 0",
            "32767, 2147483647, 9223372036854775807, 4294967295",
            "0, 0, 0, 1",
            "-1, -1, -1, NULL",
        ],
    ),
    (
        "cat_numeric",
        "c_num numeric, c_num_ps numeric(12,2), c_num_neg_scale numeric(30,28)",
        &[
            "'NaN', '1234567890.12', '0.0000000000000000000000000001'",
            "'Infinity', '-0.01', '-1.9999999999999999999999999999'",
            "'-Infinity', '0.00', '0'",
            "'-12345678901234567890123456789.123456789012345678901234567890', '9999999999.99', NULL",
            "('0.' || repeat('0', 900) || '1')::numeric, NULL, NULL",
            "('1' || repeat('0', 1000))::numeric, NULL, NULL",
        ],
    ),
    (
        "cat_float",
        "c_f4 real, c_f8 double precision",
        &[
            "'NaN', 'NaN'",
            "'Infinity', 'Infinity'",
            "'-Infinity', '-Infinity'",
            "'-0', '-0'",
            "'1.17549435e-38', '5e-324'",
            "'3.4028235e+38', '1.7976931348623157e+308'",
            "'0.1', '0.1'",
        ],
    ),
    (
        "cat_money",
        "c_money money",
        &[
            "'-92233720368547758.08'",
            "'92233720368547758.07'",
            "'0.01'",
            "'12.5'",
        ],
    ),
    (
        "cat_text",
        "c_text text, c_varchar varchar(10), c_char char(5), c_qchar \"char\", c_name name",
        &[
            "'', '', '', 'a', ''",
            "' trailing  ', 'abc  ', 'ab', 'Z', 'x y'",
            r#"E'tab\there\nnew\rline \\ back', 'ü✓𝄞', 'abcde', '\', 'ünï'"#,
            r#"'\N', '\N', ' ', '"', '"q"'"#,
            "repeat('long ✓ ', 20000), NULL, NULL, NULL, NULL",
        ],
    ),
    (
        "cat_bytea",
        "c_bytea bytea",
        &[
            r"'\x'",
            r"'\x00ff5c0a09'",
            "convert_to(E'tab\\tnl\\n\\\\', 'UTF8')",
            "BIG_BYTEA",
        ],
    ),
    ("cat_bool", "c_bool boolean", &["true", "false"]),
    (
        "cat_temporal",
        "c_date date, c_time time, c_timetz timetz, c_ts timestamp, c_tstz timestamptz, c_interval interval",
        &[
            "'infinity', '00:00', '12:00+14', 'infinity', 'infinity', '178000000 years'",
            "'-infinity', '23:59:59.999999', '00:00-12', '-infinity', '-infinity', '-178000000 years'",
            "'4714-11-24 BC', '24:00', '23:59:59.999999+05:45', '4714-11-24 00:00 BC', '4714-11-24 00:00+00 BC', '-1 day +2 hours'",
            "'0044-03-15 BC', '12:34:56.789', '01:02:03-03:30', '0001-01-01 00:00 BC', '0044-03-15 12:00+01 BC', '1 mon -1 sec'",
            "'5874897-12-31', '00:00:00.000001', '00:00+00', '294276-12-31 23:59:59.999999', '294276-12-31 23:59:59.999999+00', '00:00:00.000001'",
            "'2024-02-29', NULL, NULL, '2024-02-29 12:34:56.789', '2024-03-10 02:30 America/New_York', '1 year 2 mons 3 days 04:05:06.789'",
            "'1900-01-01', NULL, NULL, '1900-01-01 00:00', '1900-01-01 00:00 Asia/Kolkata', NULL",
            "NULL, NULL, NULL, NULL, '2024-01-01 00:00+05:45', NULL",
        ],
    ),
    (
        "cat_uuid",
        "c_uuid uuid",
        &[
            "'00000000-0000-0000-0000-000000000000'",
            "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
            "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'",
        ],
    ),
    (
        "cat_json",
        "c_json json, c_jsonb jsonb",
        &[
            r#"'{"b": 1, "a": [1, 2.50, null]}', '{"b": 1, "a": [1, 2.50, null]}'"#,
            r#"'"\u00e9\ud83d\ude00 \"q\" \\"', '"\u00e9\ud83d\ude00 \"q\" \\"'"#,
            "'[]', '{}'",
            "'null', 'null'",
            "'123456789012345678901234567890.000000001', '123456789012345678901234567890.000000001'",
            r#"'{"nested": {"deep": [{"x": "tab\there"}]}}', '{"nested": {"deep": [{"x": "tab\there"}]}}'"#,
        ],
    ),
    (
        "cat_xml",
        "c_xml xml",
        &[
            r#"'<a b="1">x &amp; y</a>'"#,
            r#"'<?xml version="1.0"?><r><ü/></r>'"#,
            "'text node'",
        ],
    ),
    (
        "cat_network",
        "c_inet inet, c_cidr cidr, c_mac macaddr, c_mac8 macaddr8",
        &[
            "'192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05'",
            "'::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', '08002b0102030405'",
            "'::ffff:1.2.3.4/128', '0.0.0.0/0', '00:00:00:00:00:00', '00:00:00:00:00:00:00:00'",
        ],
    ),
    (
        "cat_bit",
        "c_bit bit(4), c_varbit varbit",
        &["B'1010', B''", "B'0000', B'1'", "B'1111', B'1010101010101010101'"],
    ),
    (
        "cat_textsearch",
        "c_tsvector tsvector, c_tsquery tsquery",
        &[
            "'a:1A fat:2B,4C cat:5D', 'fat & (rat | !cat)'",
            "to_tsvector('english', 'The quick brown foxes ünï'), 'super:*'",
            "'''quoted '' word''', '''a b'' <-> c'",
            "'', ''",
        ],
    ),
    (
        "cat_geometric",
        "c_point point, c_line line, c_lseg lseg, c_box box, c_path path, c_polygon polygon, c_circle circle",
        &[
            "'(1.5,-2)', '{1,2,3}', '[(0,0),(1,1)]', '(1,1),(0,0)', '[(0,0),(1,1),(2,0)]', '((0,0),(1,0),(0,1))', '<(0,0),1>'",
            "'(0.1,1e-300)', '{0.1,-1,0}', '[(-0.5,1e10),(3,4)]', '(0.1,0.2),(-0.3,-0.4)', '((0,0),(1,1))', '((0.1,0.2),(0.3,0.4),(0.5,0.1))', '<(0.1,0.2),0.3>'",
        ],
    ),
    (
        "cat_range",
        "c_int4range int4range, c_numrange numrange, c_tsrange tsrange, c_tstzrange tstzrange, c_daterange daterange, c_multi int4multirange",
        &[
            "'[1,10)', '[1.5,2.25]', '[2024-01-01,infinity)', '[2024-01-01 00:00+05,2024-01-02 00:00+00)', '[2024-01-01,2024-02-01)', '{[1,3),[5,7)}'",
            "'empty', 'empty', 'empty', 'empty', 'empty', '{}'",
            "'(,5]', '(,)', '(,2024-01-01]', '(-infinity,infinity)', '[-infinity,2024-01-01]', '{(,1),[5,)}'",
        ],
    ),
    (
        "cat_array",
        "c_int2d integer[], c_text_arr text[], c_lower integer[], c_mood_arr mood[], c_year_arr year[], c_num_arr numeric[]",
        &[
            r#"'{{1,2},{3,NULL}}', '{"a b",NULL,"\"q\"","",NULL}', '[0:1]={1,2}', '{sad,"so so"}', '{1999,2000}', '{NaN,1.50,-0.0}'"#,
            "'{}', '{}', '[-2:-1]={7,8}', '{}', '{}', '{}'",
            r#"'{{{1}},{{2}}}', '{"NULL","null",NULL}', '{NULL}', '{"ünï \"q\"",NULL}', '{NULL,3}', '{Infinity}'"#,
        ],
    ),
    (
        "cat_composite",
        "c_addr addr",
        &[
            r#"'("Main St, 1",5,"{a,b}")'"#,
            "'(,,)'",
            r#"'("",,{})'"#,
            r#"'("quote "" and \\ back",-1,"{NULL}")'"#,
        ],
    ),
    (
        "cat_domain",
        "c_year year, c_code code, c_price price, c_nested nested",
        &[
            "1999, 'abc  ', 0.01, 1",
            "2147483647, '', 999999.99, 2147483647",
            "1, 'ünïcödé✓', -999999.99, NULL",
        ],
    ),
    (
        "cat_enum",
        "c_mood mood",
        &["'sad'", "'so so'", r#"'ünï "q"'"#, "'ok'"],
    ),
];

/// The DDL and rows of every family; `big_bytea_mb` sizes the large bytea.
pub fn sql(big_bytea_mb: usize) -> String {
    let big = format!(
        "decode(repeat('00ff10e2889a5c0a', {}), 'hex')",
        big_bytea_mb * 1024 * 1024 / 8
    );
    let mut s = TYPES.to_owned();
    for (table, columns, rows) in FAMILIES {
        s += &format!(
            "CREATE TABLE {table} (id integer PRIMARY KEY, ts timestamp NOT NULL, {columns});\n"
        );
        for (i, row) in rows.iter().enumerate() {
            let row = row.replace("BIG_BYTEA", &big);
            s += &format!(
                "INSERT INTO {table} VALUES ({}, timestamp '2024-01-01' + {i} * interval '1 hour', {row});\n",
                i + 1
            );
        }
    }
    s
}
