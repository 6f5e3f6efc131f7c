//! How deep a request may nest, checked before anything parses it.
//!
//! The GraphQL parser (and serde, and async-graphql's value handling after
//! it) recurse once per level of `[`, `{` or `(`. A 12 KB document of
//! nested list literals is enough to overflow a worker thread's stack and
//! abort the whole process, so the nesting is counted here by a flat scan
//! that recurses nowhere, and a request past the limit is refused before
//! the parser sees it. Selections, object and list literals, arguments,
//! directive arguments and variable defaults all nest with these three
//! brackets, so one count covers them; variables are JSON values and are
//! measured the same way.

use async_graphql::Value;

/// The deepest nesting of brackets (selection sets, arguments, list and
/// object literals) a document may have. Far above any real query (the
/// query depth limit is 15 selections), far below what overflows a stack.
pub const MAX_NESTING: usize = 64;

/// A document or its variables nest deeper than [`MAX_NESTING`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooNested {
    /// Where: `query` or `variables`.
    pub part: &'static str,
}

impl std::fmt::Display for TooNested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request's `{}` nests lists, objects or selections more than {MAX_NESTING} levels deep",
            self.part
        )
    }
}

/// Checks a request's document and variables.
pub fn check(request: &async_graphql::Request) -> Result<(), TooNested> {
    if document_nesting(&request.query) > MAX_NESTING {
        return Err(TooNested { part: "query" });
    }
    let variables = request.variables.values();
    if variables.map(value_nesting).max().unwrap_or(0) > MAX_NESTING {
        return Err(TooNested { part: "variables" });
    }
    Ok(())
}

/// The deepest bracket nesting in a GraphQL document, skipping strings,
/// block strings and comments. Stray closing brackets count as nothing:
/// the parser refuses them anyway.
pub fn document_nesting(document: &str) -> usize {
    let bytes = document.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped triple quote inside a block string.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'[' | b'{' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// How deep a value nests lists and objects (a scalar is 0), walked with a
/// stack of its own rather than by recursion.
pub fn value_nesting(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((value, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match value {
            Value::List(items) => stack.extend(items.iter().map(|item| (item, depth + 1))),
            Value::Object(fields) => stack.extend(fields.values().map(|field| (field, depth + 1))),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use async_graphql::Name;

    use super::*;

    fn name(text: &str) -> Name {
        Name::new(text)
    }

    fn nested(open: &str, close: &str, levels: usize) -> String {
        format!("{}1{}", open.repeat(levels), close.repeat(levels))
    }

    #[test]
    fn counts_brackets_of_every_kind() {
        let table = [
            ("{ a }", 1),
            ("{ a { b { c } } }", 3),
            ("{ a(b: [1, 2]) }", 3),
            ("{ a(b: {c: [[1]]}) }", 5),
            ("query($v: [[Int]] = [[1]]) { a @d(x: [[[1]]]) }", 5),
            ("{ a(b: \"[[[[[\") }", 2),
            ("{ a(b: \"\\\"[[[[\") }", 2),
            ("{ a(b: \"\"\"[[[ \\\"\"\" [[[ \"\"\") }", 2),
            ("# [[[[[[\n{ a }", 1),
            ("}}}}{ a }", 1),
            ("", 0),
        ];
        for (document, expected) in table {
            assert_eq!(document_nesting(document), expected, "{document}");
        }
    }

    #[test]
    fn an_unterminated_string_or_comment_ends_the_scan() {
        assert_eq!(document_nesting("{ a(b: \"[[[["), 2);
        assert_eq!(document_nesting("{ a(b: \"\"\"[[[["), 2);
        assert_eq!(document_nesting("{ # [[[["), 1);
    }

    #[test]
    fn a_request_past_the_limit_is_refused_by_part() {
        let at_limit = format!("{{ a(b: {}) }}", nested("[", "]", MAX_NESTING - 2));
        assert_eq!(check(&async_graphql::Request::new(at_limit)), Ok(()));
        let past = format!("{{ a(b: {}) }}", nested("[", "]", MAX_NESTING - 1));
        assert_eq!(
            check(&async_graphql::Request::new(past)),
            Err(TooNested { part: "query" })
        );

        let mut value = Value::from(1);
        for level in 0..=MAX_NESTING {
            value = if level % 2 == 0 {
                Value::List(vec![value])
            } else {
                Value::Object([(name("x"), value)].into_iter().collect())
            };
        }
        assert_eq!(value_nesting(&value), MAX_NESTING + 1);
        let variables =
            async_graphql::Variables::from_value(Value::Object([(name("deep"), value)].into_iter().collect()));
        let request = async_graphql::Request::new("{ a }").variables(variables);
        assert_eq!(check(&request), Err(TooNested { part: "variables" }));
    }
}
