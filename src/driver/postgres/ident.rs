//! Quoting of identifiers and literals, and a guard on type names. Every name
//! that comes from the config or a catalog reaches SQL through this module, so
//! a hostile table name stays a name.

/// `name` as a quoted identifier: `"a""b"`.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `"schema"."table"`.
pub fn quote_table(schema: &str, table: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(table))
}

/// A comma-separated list of quoted identifiers.
pub fn quote_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(quote_ident)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` as an escape-string literal (`E'it''s \\ ok'`), which means the same
/// whatever `standard_conforming_strings` says.
pub fn quote_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 3);
    out.push_str("E'");
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Checks that a type name as `format_type` prints it (`numeric(10,0)`,
/// `character varying(60)`, `integer[]`, `"MyType"`, `public.mood`) is only
/// that: quoted parts may hold anything, the rest only letters, digits, `_`,
/// spaces, `,`, `.`, `(`, `)`, `[`, `]`. Type names cannot be quoted as one
/// identifier, so this is what keeps them from carrying SQL.
pub fn safe_type_name(name: &str) -> bool {
    let mut in_quotes = false;
    let mut chars = name.chars().peekable();
    let mut depth = 0i32;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                } else {
                    in_quotes = false;
                }
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            c if c.is_ascii_alphanumeric() || matches!(c, '_' | ' ' | ',' | '.' | '[' | ']') => {}
            _ => return false,
        }
    }
    !in_quotes && depth == 0 && !name.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers() {
        assert_eq!(quote_ident("m_product"), "\"m_product\"");
        assert_eq!(
            quote_ident("a\"; DROP TABLE x;--"),
            "\"a\"\"; DROP TABLE x;--\""
        );
        assert_eq!(quote_table("public", "Tab"), "\"public\".\"Tab\"");
        assert_eq!(quote_list(["a", "b\""]), "\"a\", \"b\"\"\"");
    }

    #[test]
    fn quotes_literals() {
        assert_eq!(quote_literal("it's"), "E'it''s'");
        assert_eq!(quote_literal("a\\b"), "E'a\\\\b'");
    }

    #[test]
    fn type_names() {
        for ok in [
            "numeric(10,0)",
            "character varying(60)",
            "timestamp without time zone",
            "integer[]",
            "\"My Type\"",
            "public.\"we\"\"ird); drop\"",
            "numeric",
        ] {
            assert!(safe_type_name(ok), "{ok}");
        }
        for bad in [
            "text; DROP TABLE x",
            "int) --",
            "\"open",
            "",
            "text'",
            "numeric(10",
        ] {
            assert!(!safe_type_name(bad), "{bad}");
        }
    }
}
